"""Storage: the only place that knows SQL. Imports only bot.domain; returns frozen
dataclasses, never rows. The seam a PostgreSQL implementation would fill is `db.py`
(`Database`, `Transaction`): nothing outside this package runs a query.

- db.py: one writer and one reader connection, transactions, numbered migrations.
- migrations/: the schema, one numbered .sql file per change, append-only.
- crypto.py, keyring.py: field encryption, blind indexes, the key ring.
- signing.py: the exports' Ed25519 key, derived from the key ring.
- keycheck.py: refusing to run on keys that cannot read the data.
- reencrypt.py: `rotate-key`: every encrypted column under the current key.
- lock.py: one process at a time on a data directory.
- erasure.py: what `/remove` erases.
- people.py, invitations.py, audit.py, gate.py: people, invitations, the audit log, the gate.
- alerts.py: alerts, timelines, pages.
- checkins.py: check-in state, PIN hashes, the check-in log.
- casefiles.py: contacts' case files, one encrypted value each.
- outbox.py: durable delivery work.
- rota.py, policies.py, groups.py, drafts.py: the rota, policies, group chats, drafts.
"""
