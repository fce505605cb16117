"""Examples of user code claimcheck checks: a coordinator of one's own (``lease_coordinator``)."""
