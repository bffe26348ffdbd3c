from certhub.manage import main

main()
