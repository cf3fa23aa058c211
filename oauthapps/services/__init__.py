"""Every write of the OAuth side, one module a concept: ``clients``, ``tokens``, ``plugins`` (and the encryption
of their readable secrets), ``housekeeping`` (purging what can never be used again)."""
