"""The resident's portrait: taken from an officer's upload (capture), kept sealed in the store (vault).

A portrait is biometric data. What the issuer keeps and issues is one small WebP file P (docs/portrait.md:
the format chosen by measurement); the permit carries SHA-256(P) as ``portrait_sha256`` (signed in the QR
pass), the SD-JWT VC carries P itself as ``picture`` (credential.portrait). In the store P is sealed with
AES-256-GCM under the key ring's portrait key (keys: ``portrait-data.secret.json``), bound to its record;
it is never logged, and the officer desk returns it only to officers of the record's district.
"""
