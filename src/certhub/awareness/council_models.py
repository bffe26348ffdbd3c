"""The CERT Council: members and their seats, meetings, the register of recommendations,
and disputes between CERTs."""
