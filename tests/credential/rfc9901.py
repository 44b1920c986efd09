"""Examples from RFC 9901 (SD-JWT): disclosures as the RFC prints them, and the §5.1 issuer-signed payload.

The §5.1 disclosures are the RFC's own strings: each is base64url of Python's ``json.dumps`` of its contents
(the RFC's examples were made that way), and each digest is one the §5.1 payload carries.
"""

from __future__ import annotations

from typing import Any

# §4.2.1 (the disclosure) and §4.2.3 (its digest).
FAMILY_NAME = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
FAMILY_NAME_DIGEST = "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"
FAMILY_NAME_CONTENTS = ["_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius"]
# §4.2.1: "the following strings are all valid and encode the same claim value": the umlaut escaped, no white
# space, new lines between elements.
FAMILY_NAME_SPELLINGS = [
    "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNXHUwMGY2Yml1cyJd",
    "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsImZhbWlseV9uYW1lIiwiTcO2Yml1cyJd",
    "WwoiXzI2YmM0TFQtYWM2cTJLSTZjQlc1ZXMiLAoiZmFtaWx5X25hbWUiLAoiTcO2Yml1cyIKXQ",
]
# §4.2.2: an array element.
FR = "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0"
FR_DIGEST = "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs"

# §5.1: the issuer-signed JWT's payload ...
EXAMPLE_PAYLOAD: dict[str, Any] = {
    "_sd": [
        "CrQe7S5kqBAHt-nMYXgc6bdt2SH5aTY1sU_M-PgkjPI",
        "JzYjH4svliH0R3PyEMfeZu6Jt69u5qehZo7F7EPYlSE",
        "PorFbpKuVu6xymJagvkFsFXAbRoc2JGlAUA2BA4o7cI",
        "TGf4oLbgwd5JQaHyKVQZU9UdGE0w5rtDsrZzfUaomLo",
        "XQ_3kPKt1XyX7KANkqVR6yZ2Va5NrPIvPYbyMvRKBMM",
        "XzFrzwscM6Gn6CJDc6vVK8BkMnfG8vOSKfpPIZdAfdE",
        "gbOsI4Edq2x2Kw-w5wPEzakob9hV1cRD0ATN3oQL9JM",
        "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4",
    ],
    "iss": "https://issuer.example.com/",
    "iat": 1683000000,
    "exp": 1883000000,
    "sub": "user_42",
    "nationalities": [
        {"...": "pFndjkZ_VCzmyTa6UjlZo3dh-ko8aIKQc9DlGzhaVYo"},
        {"...": "7Cf6JkPudry3lcbwHgeZ8khAv1U1OSlerP0VkBJrWZ0"},
    ],
    "_sd_alg": "sha-256",
    "cnf": {"jwk": {"kty": "EC", "crv": "P-256", "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
                    "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"}},
}
# ... its disclosures: (disclosure, digest, contents) ...
EXAMPLE_DISCLOSURES: list[tuple[str, str, list[Any]]] = [
    ("WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd",
     "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4", ["2GLC42sKQveCfGfryNRN9w", "given_name", "John"]),
    ("WyJlbHVWNU9nM2dTTklJOEVZbnN4QV9BIiwgImZhbWlseV9uYW1lIiwgIkRvZSJd",
     "TGf4oLbgwd5JQaHyKVQZU9UdGE0w5rtDsrZzfUaomLo", ["eluV5Og3gSNII8EYnsxA_A", "family_name", "Doe"]),
    ("WyI2SWo3dE0tYTVpVlBHYm9TNXRtdlZBIiwgImVtYWlsIiwgImpvaG5kb2VAZXhhbXBsZS5jb20iXQ",
     "JzYjH4svliH0R3PyEMfeZu6Jt69u5qehZo7F7EPYlSE", ["6Ij7tM-a5iVPGboS5tmvVA", "email", "johndoe@example.com"]),
    ("WyJlSThaV205UW5LUHBOUGVOZW5IZGhRIiwgInBob25lX251bWJlciIsICIrMS0yMDItNTU1LTAxMDEiXQ",
     "PorFbpKuVu6xymJagvkFsFXAbRoc2JGlAUA2BA4o7cI", ["eI8ZWm9QnKPpNPeNenHdhQ", "phone_number", "+1-202-555-0101"]),
    ("WyJRZ19PNjR6cUF4ZTQxMmExMDhpcm9BIiwgInBob25lX251bWJlcl92ZXJpZmllZCIsIHRydWVd",
     "XQ_3kPKt1XyX7KANkqVR6yZ2Va5NrPIvPYbyMvRKBMM", ["Qg_O64zqAxe412a108iroA", "phone_number_verified", True]),
    ("WyJBSngtMDk1VlBycFR0TjRRTU9xUk9BIiwgImFkZHJlc3MiLCB7InN0cmVldF9hZGRyZXNzIjogIjEyMyBNYWluIFN0IiwgImxvY2FsaXR5"
     "IjogIkFueXRvd24iLCAicmVnaW9uIjogIkFueXN0YXRlIiwgImNvdW50cnkiOiAiVVMifV0",
     "XzFrzwscM6Gn6CJDc6vVK8BkMnfG8vOSKfpPIZdAfdE",
     ["AJx-095VPrpTtN4QMOqROA", "address",
      {"street_address": "123 Main St", "locality": "Anytown", "region": "Anystate", "country": "US"}]),
    ("WyJQYzMzSk0yTGNoY1VfbEhnZ3ZfdWZRIiwgImJpcnRoZGF0ZSIsICIxOTQwLTAxLTAxIl0",
     "gbOsI4Edq2x2Kw-w5wPEzakob9hV1cRD0ATN3oQL9JM", ["Pc33JM2LchcU_lHggv_ufQ", "birthdate", "1940-01-01"]),
    ("WyJHMDJOU3JRZmpGWFE3SW8wOXN5YWpBIiwgInVwZGF0ZWRfYXQiLCAxNTcwMDAwMDAwXQ",
     "CrQe7S5kqBAHt-nMYXgc6bdt2SH5aTY1sU_M-PgkjPI", ["G02NSrQfjFXQ7Io09syajA", "updated_at", 1570000000]),
    ("WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlVTIl0",
     "pFndjkZ_VCzmyTa6UjlZo3dh-ko8aIKQc9DlGzhaVYo", ["lklxF5jMYlGTPUovMNIvCA", "US"]),
    ("WyJuUHVvUW5rUkZxM0JJZUFtN0FuWEZBIiwgIkRFIl0",
     "7Cf6JkPudry3lcbwHgeZ8khAv1U1OSlerP0VkBJrWZ0", ["nPuoQnkRFq3BIeAm7AnXFA", "DE"]),
]
# ... and what a verifier reads with every disclosure presented (§7.3: digests and _sd_alg removed).
EXAMPLE_CLAIMS: dict[str, Any] = {
    "iss": "https://issuer.example.com/",
    "iat": 1683000000,
    "exp": 1883000000,
    "sub": "user_42",
    "nationalities": ["US", "DE"],
    "cnf": EXAMPLE_PAYLOAD["cnf"],
    "given_name": "John",
    "family_name": "Doe",
    "email": "johndoe@example.com",
    "phone_number": "+1-202-555-0101",
    "phone_number_verified": True,
    "address": {"street_address": "123 Main St", "locality": "Anytown", "region": "Anystate", "country": "US"},
    "birthdate": "1940-01-01",
    "updated_at": 1570000000,
}
