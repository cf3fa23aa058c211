"""A fast keyed hash for OAuth client secrets (DOT's ``CLIENT_SECRET_HASHER``).

Client secrets are 48+ random characters, not passwords: nobody can guess one, so a slow password
hash buys nothing and costs hundreds of milliseconds of CPU on every token request. HMAC-SHA-256 under
``PORTAL_HASH_KEY`` keeps a stolen table useless without the key, and checks in microseconds.
"""

from __future__ import annotations

import hmac

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash

from portal.hashing import keyed_hash


class ClientSecretHasher(BasePasswordHasher):
    algorithm = "portal_client_secret_hmac"

    def salt(self) -> str:
        return ""  # the secret is its own randomness; the key is the pepper

    def encode(self, password: str, salt: str) -> str:
        digest = keyed_hash(password, purpose="client-secret")  # portal.hashing, as for every stored secret
        return f"{self.algorithm}$${digest}"

    def decode(self, encoded: str) -> dict:
        algorithm, salt, digest = encoded.split("$", 2)
        return {"algorithm": algorithm, "salt": salt, "hash": digest}

    def verify(self, password: str, encoded: str) -> bool:
        return hmac.compare_digest(self.encode(password, ""), encoded)

    def safe_summary(self, encoded: str) -> dict:
        return {"algorithm": self.algorithm, "hash": mask_hash(self.decode(encoded)["hash"])}

    def must_update(self, encoded: str) -> bool:
        return False

    def harden_runtime(self, password: str, encoded: str) -> None:
        return None
