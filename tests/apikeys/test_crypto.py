"""The secret module on its own: format, checksum, hashing."""

from __future__ import annotations

import re
import zlib

import pytest
from django.test import override_settings

from apikeys import crypto

README_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,15}_(live|test)_[0-9A-Za-z]{58}$")


def test_generated_key_has_the_documented_shape():
    key, public_id = crypto.generate_key(prefix="dp", environment="live")
    assert README_PATTERN.match(key)
    assert key.startswith(f"dp_live_{public_id}")
    assert len(public_id) == crypto.PUBLIC_ID_LENGTH
    secret = key[len("dp_live_") + crypto.PUBLIC_ID_LENGTH : -crypto.CHECKSUM_LENGTH]
    assert len(secret) >= 32 and set(secret) <= set(crypto.BASE62)


def test_checksum_is_base62_crc32_of_everything_before_it_zero_padded():
    key, _ = crypto.generate_key(prefix="dp", environment="test")
    head, check = key[:-6], key[-6:]
    number = 0
    for char in check:
        number = number * 62 + crypto.BASE62.index(char)
    assert number == zlib.crc32(head.encode())


def test_checksum_pads_small_values_with_leading_zeros():
    assert crypto.base62_encode(0, 6) == "000000"
    assert crypto.base62_encode(61, 6) == "00000z"
    assert crypto.base62_encode(62, 6) == "000010"


def test_two_keys_never_share_a_secret():
    keys = {crypto.generate_key(prefix="dp", environment="live")[0] for _ in range(200)}
    assert len(keys) == 200


@pytest.mark.parametrize(
    "mutate",
    [
        lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),  # checksum typo
        lambda k: k[:20] + ("x" if k[20] != "x" else "y") + k[21:],  # secret typo
        lambda k: k.replace("dp_", "xx_", 1),  # another prefix
        lambda k: k.replace("_live_", "_prod_", 1),  # unknown environment marker
        lambda k: k.replace("_live_", "_test_", 1),  # environment swapped: checksum no longer matches
        lambda k: k + "0",  # too long
        lambda k: k[:-2],  # too short
        lambda k: k.replace(k[15], "-", 1),  # not base62
        lambda k: "",
    ],
    ids=["checksum", "secret", "prefix", "env-marker", "env-swap", "long", "short", "alphabet", "empty"],
)
def test_mistyped_or_invented_keys_fail_parsing(mutate):
    key, _ = crypto.generate_key(prefix="dp", environment="live")
    assert crypto.parse_key(key, prefix="dp") is not None
    assert crypto.parse_key(mutate(key), prefix="dp") is None


@override_settings(PORTAL={"HASH_KEY": "one-key"})
def test_hash_is_keyed_and_compares_in_constant_time():
    key, _ = crypto.generate_key(prefix="dp", environment="live")
    stored = crypto.hash_key(key)
    assert len(stored) == 64 and key not in stored
    assert crypto.hashes_match(crypto.hash_key(key), stored)
    assert not crypto.hashes_match(crypto.hash_key(key[:-1] + ("1" if key.endswith("0") else "0")), stored)
    with override_settings(PORTAL={"HASH_KEY": "another-key"}):
        assert crypto.hash_key(key) != stored


@pytest.mark.parametrize("shape", [
    lambda key: key,  # the whole key
    lambda key: key[:-1],  # cut short
    lambda key: key[:-6] + "000000",  # a wrong checksum: still looked for by its id
    lambda key: key[:20] + "…",  # the masked form lists show
])
def test_the_public_id_is_read_from_any_start_of_a_key(shape):
    key, public_id = crypto.generate_key(prefix="dp", environment="live")

    assert crypto.public_id_in(shape(key), prefix="dp") == public_id


@pytest.mark.parametrize("value", ["CI deploys", "xx_live_0123456789AB", "dp_prod_0123456789AB", "dp_live_01234"])
def test_what_does_not_start_like_a_key_has_no_public_id(value):
    assert crypto.public_id_in(value, prefix="dp") is None
