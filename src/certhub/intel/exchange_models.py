"""What STIX 2.1, TAXII 2.1 and MISP interchange keep: collections, shared objects and
the status of posted envelopes."""
