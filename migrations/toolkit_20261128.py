"""The toolkit schema as the 2026-11-28 revisions created it, frozen as SQL text.

Migrations must not build tables from live model code: a model changed later would change what
an old revision creates, and the revision that adds the change would then fail on a fresh
database. These statements were generated once from the models of that day and never change;
a later change to a toolkit table comes with its own revision in every service.
"""

from __future__ import annotations

TOOLKIT_UP: tuple[str, ...] = (
    "CREATE TABLE api_key (\n\tid UUID NOT NULL, \n\torg_id UUID NOT NULL, \n\tname TEXT NOT NULL, \n\trole TEXT NOT NULL, \n\tkey_hash TEXT NOT NULL, \n\tprefix TEXT NOT NULL, \n\tcreated_at TIMESTAMP WITH TIME ZONE NOT NULL, \n\trevoked_at TIMESTAMP WITH TIME ZONE, \n\tversion INTEGER NOT NULL, \n\tCONSTRAINT pk_api_key PRIMARY KEY (id), \n\tCONSTRAINT uq_api_key_key_hash UNIQUE (key_hash)\n)",
    "CREATE TABLE dead_letter (\n\tid UUID NOT NULL, \n\tconsumer TEXT NOT NULL, \n\tevent_id UUID, \n\torg_id UUID, \n\tsubject TEXT NOT NULL, \n\tpayload BYTEA NOT NULL, \n\terror TEXT NOT NULL, \n\tdeliveries INTEGER NOT NULL, \n\tcreated_at TIMESTAMP WITH TIME ZONE NOT NULL, \n\treplayed_at TIMESTAMP WITH TIME ZONE, \n\tCONSTRAINT pk_dead_letter PRIMARY KEY (id)\n)",
    "CREATE TABLE idempotency_key (\n\torg_id UUID NOT NULL, \n\tkey TEXT NOT NULL, \n\tfingerprint TEXT NOT NULL, \n\tstatus_code INTEGER NOT NULL, \n\tbody JSONB NOT NULL, \n\theaders JSONB NOT NULL, \n\tcreated_at TIMESTAMP WITH TIME ZONE NOT NULL, \n\tCONSTRAINT pk_idempotency_key PRIMARY KEY (org_id, key)\n)",
    "CREATE TABLE inbox (\n\tconsumer TEXT NOT NULL, \n\tevent_id UUID NOT NULL, \n\tprocessed_at TIMESTAMP WITH TIME ZONE NOT NULL, \n\tCONSTRAINT pk_inbox PRIMARY KEY (consumer, event_id)\n)",
    "CREATE TABLE outbox (\n\tseq BIGINT GENERATED ALWAYS AS IDENTITY, \n\tevent_id UUID NOT NULL, \n\torg_id UUID, \n\ttype TEXT NOT NULL, \n\tsubject TEXT NOT NULL, \n\tenvelope JSONB NOT NULL, \n\tcreated_at TIMESTAMP WITH TIME ZONE NOT NULL, \n\tpublished_at TIMESTAMP WITH TIME ZONE, \n\tattempts INTEGER NOT NULL, \n\tlast_error TEXT, \n\tCONSTRAINT pk_outbox PRIMARY KEY (seq), \n\tCONSTRAINT uq_outbox_event_id UNIQUE (event_id)\n)",
    "CREATE INDEX ix_outbox_unpublished ON outbox (seq) WHERE published_at IS NULL",
    "ALTER TABLE idempotency_key ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE idempotency_key FORCE ROW LEVEL SECURITY",
    "CREATE POLICY tenant_isolation ON idempotency_key USING (org_id = NULLIF(current_setting('aims.org_id', true), '')::uuid) WITH CHECK (org_id = NULLIF(current_setting('aims.org_id', true), '')::uuid)",
    "CREATE OR REPLACE FUNCTION aims_outbox_notify() RETURNS trigger AS $$\nBEGIN PERFORM pg_notify('aims_outbox', ''); RETURN NULL; END;\n$$ LANGUAGE plpgsql",
    "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION aims_outbox_notify()",
)

TOOLKIT_DOWN: tuple[str, ...] = (
    "DROP TRIGGER IF EXISTS outbox_notify ON outbox",
    "DROP FUNCTION IF EXISTS aims_outbox_notify()",
    "DROP TABLE IF EXISTS outbox",
    "DROP TABLE IF EXISTS inbox",
    "DROP TABLE IF EXISTS idempotency_key",
    "DROP TABLE IF EXISTS dead_letter",
    "DROP TABLE IF EXISTS api_key",
)

AUDIT_UP: tuple[str, ...] = (
    "CREATE TABLE audit_entry (\n\torg_id UUID NOT NULL, \n\tseq BIGINT NOT NULL, \n\tid UUID NOT NULL, \n\trecorded_at TIMESTAMP WITH TIME ZONE NOT NULL, \n\tactor TEXT NOT NULL, \n\tactor_kind TEXT NOT NULL, \n\taction TEXT NOT NULL, \n\tentity_type TEXT NOT NULL, \n\tentity_id TEXT NOT NULL, \n\tbefore JSONB, \n\tafter JSONB, \n\tprev_hash TEXT NOT NULL, \n\thash TEXT NOT NULL, \n\tCONSTRAINT pk_audit_entry PRIMARY KEY (org_id, seq), \n\tCONSTRAINT uq_audit_entry_id UNIQUE (id)\n)",
    "CREATE INDEX ix_audit_entry_entity ON audit_entry (org_id, entity_type, entity_id, seq)",
    "CREATE INDEX ix_audit_entry_entity_id ON audit_entry (org_id, entity_id, seq)",
    "CREATE TABLE audit_head (\n\torg_id UUID NOT NULL, \n\tseq BIGINT NOT NULL, \n\thash TEXT NOT NULL, \n\tCONSTRAINT pk_audit_head PRIMARY KEY (org_id)\n)",
    "ALTER TABLE audit_entry ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE audit_entry FORCE ROW LEVEL SECURITY",
    "CREATE POLICY tenant_isolation ON audit_entry USING (org_id = NULLIF(current_setting('aims.org_id', true), '')::uuid) WITH CHECK (org_id = NULLIF(current_setting('aims.org_id', true), '')::uuid)",
    "ALTER TABLE audit_head ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE audit_head FORCE ROW LEVEL SECURITY",
    "CREATE POLICY tenant_isolation ON audit_head USING (org_id = NULLIF(current_setting('aims.org_id', true), '')::uuid) WITH CHECK (org_id = NULLIF(current_setting('aims.org_id', true), '')::uuid)",
    "CREATE OR REPLACE FUNCTION aims_audit_append_only() RETURNS trigger AS $$\nBEGIN\n    IF NOT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID),\n                       'USAGE') THEN\n        RAISE EXCEPTION 'the audit trail is append-only'\n            USING ERRCODE = 'insufficient_privilege';\n    END IF;\n    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n    RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql",
    "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry FOR EACH ROW EXECUTE FUNCTION aims_audit_append_only()",
)

AUDIT_DOWN: tuple[str, ...] = (
    "DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry",
    "DROP FUNCTION IF EXISTS aims_audit_append_only()",
    "DROP TABLE IF EXISTS audit_head",
    "DROP TABLE IF EXISTS audit_entry",
)

TIMER_UP: tuple[str, ...] = (
    "CREATE TABLE timer (\n\torg_id UUID NOT NULL, \n\tkind TEXT NOT NULL, \n\tentity_id TEXT NOT NULL, \n\tdue_at TIMESTAMP WITH TIME ZONE NOT NULL, \n\tfired_at TIMESTAMP WITH TIME ZONE, \n\tattempts INTEGER DEFAULT '0' NOT NULL, \n\tlast_error TEXT, \n\tnext_attempt_at TIMESTAMP WITH TIME ZONE, \n\tarmed_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, \n\tCONSTRAINT pk_timer PRIMARY KEY (org_id, kind, entity_id)\n)",
    "CREATE INDEX ix_timer_pending ON timer (due_at) WHERE fired_at IS NULL",
)

TIMER_DOWN: tuple[str, ...] = ("DROP TABLE IF EXISTS timer",)
