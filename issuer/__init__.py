"""The registry of permits and officers: issuance decisions, status changes, audit trail, stores, officer API."""
