// DCQL (OpenID4VP 1.0 §6), read strictly: the subset verifier/openid4vp/dcql.py builds and reads, nothing
// more. One credential format (dc+sd-jwt), meta.vct_values, claims as paths of one top-level name, every
// claim required. credential_sets, claim_sets, trusted_authorities, values, nested paths and multiple: true
// are refused, never skipped: a wallet must not answer a query it read only in part.

export const SD_JWT_FORMAT = "dc+sd-jwt";
const MAX_QUERIES = 4;
const MAX_CLAIMS = 32;
const MAX_VCT_VALUES = 8;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const KNOWN = new Set(["id", "format", "meta", "claims", "multiple", "require_cryptographic_holder_binding",
  "claim_sets", "trusted_authorities"]);

export class DcqlError extends Error {}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function strings(value, what, limit) {
  if (!Array.isArray(value) || value.length < 1 || value.length > limit) throw new DcqlError(`${what}: 1..${limit} strings`);
  if (!value.every((v) => typeof v === "string" && v)) throw new DcqlError(`${what}: non-empty strings`);
  return value;
}

function claimName(entry) {
  if (!isObject(entry) || Object.keys(entry).some((k) => !["id", "path", "intent_to_retain"].includes(k))) {
    throw new DcqlError("a claims entry holds a path (values and other members are not supported)");
  }
  const { path } = entry;
  if (!Array.isArray(path) || path.length !== 1 || typeof path[0] !== "string" || !path[0]) {
    throw new DcqlError("only a path of one claim name is supported");
  }
  return path[0];
}

function credentialQuery(entry) {
  if (!isObject(entry)) throw new DcqlError("a credential query is an object");
  const unknown = Object.keys(entry).filter((k) => !KNOWN.has(k));
  if (unknown.length) throw new DcqlError(`unknown member ${unknown[0]}`);
  if (typeof entry.id !== "string" || !ID.test(entry.id)) throw new DcqlError("bad id");
  if (entry.format !== SD_JWT_FORMAT) throw new DcqlError(`only ${SD_JWT_FORMAT} is supported`);
  for (const name of ["claim_sets", "trusted_authorities"]) if (name in entry) throw new DcqlError(`${name} is not supported`);
  if ((entry.multiple ?? false) !== false) throw new DcqlError("multiple must be false");
  if ((entry.require_cryptographic_holder_binding ?? true) !== true) throw new DcqlError("holder binding is always required");
  const { meta } = entry;
  if (!isObject(meta) || Object.keys(meta).length !== 1 || !("vct_values" in meta)) throw new DcqlError("meta holds vct_values only");
  const vctValues = strings(meta.vct_values, "meta.vct_values", MAX_VCT_VALUES);
  if (!Array.isArray(entry.claims) || entry.claims.length < 1 || entry.claims.length > MAX_CLAIMS) {
    throw new DcqlError(`claims must list 1..${MAX_CLAIMS} claims`);
  }
  const claims = entry.claims.map(claimName);
  if (new Set(claims).size !== claims.length) throw new DcqlError("a claim is asked for twice");
  return { id: entry.id, vctValues, claims };
}

/** The Credential Queries of `document`: [{id, vctValues, claims}]; DcqlError for anything else. */
export function parseDcql(document) {
  if (!isObject(document) || Object.keys(document).some((k) => k !== "credentials" && k !== "credential_sets")) {
    throw new DcqlError("a DCQL query is an object with credentials");
  }
  if ("credential_sets" in document) throw new DcqlError("credential_sets is not supported");
  const entries = document.credentials;
  if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_QUERIES) {
    throw new DcqlError(`credentials must list 1..${MAX_QUERIES} queries`);
  }
  const queries = entries.map(credentialQuery);
  if (new Set(queries.map((q) => q.id)).size !== queries.length) throw new DcqlError("two queries share an id");
  return queries;
}
