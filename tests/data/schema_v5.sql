-- rased-tui: the one source of truth for tables, indexes, views, full-text search and triggers.
--
-- Conventions: every record has a UUID text key (36 characters) so that databases from several
-- antennas merge without collisions; dates are ISO 'YYYY-MM-DD' (checked: `x IS date(x)` also
-- rejects 2026-02-30, which SQLite would normalise); timestamps are UTC ISO-8601 with 'Z'.
-- Anything that can be derived (a case's status, a member's caseload) is derived in a view or in
-- code, never stored. The store applies this file to a new database in one transaction; older
-- files are brought here by the migrations in src/rased_tui/store/migrations.py.

PRAGMA application_id = 1380012869;  -- 'RASE': tells a rased-tui file from any other SQLite file

-- Key/value settings (circonscription, antenna, zone, retention, pseudonym secret...).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY CHECK (length(key) > 0),
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Schools of the circonscription. The UAI's key letter is checked here as in the domain.
CREATE TABLE schools (
    id                 TEXT PRIMARY KEY CHECK (length(id) = 36),
    uai                TEXT NOT NULL UNIQUE
                       CHECK (uai GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][A-Z]'
                              AND substr('ABCDEFGHJKLMNPRSTUVWXYZ',
                                         CAST(substr(uai, 1, 7) AS INTEGER) % 23 + 1, 1)
                                  = substr(uai, 8, 1)),
    name               TEXT NOT NULL CHECK (length(trim(name)) > 0),
    commune            TEXT NOT NULL DEFAULT '',
    kind               TEXT NOT NULL CHECK (kind IN ('maternelle', 'elementaire', 'primaire')),
    priority_education TEXT NOT NULL DEFAULT 'aucune'
                       CHECK (priority_education IN ('aucune', 'rep', 'rep_plus')),
    active             INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at         TEXT NOT NULL CHECK (datetime(created_at) IS NOT NULL),
    updated_at         TEXT NOT NULL CHECK (datetime(updated_at) IS NOT NULL)
);

-- Members of the pôle ressource: RASED (E, G, psychologue) and circonscription staff.
CREATE TABLE members (
    id          TEXT PRIMARY KEY CHECK (length(id) = 36),
    last_name   TEXT NOT NULL CHECK (length(trim(last_name)) > 0),
    first_name  TEXT NOT NULL CHECK (length(trim(first_name)) > 0),
    role        TEXT NOT NULL CHECK (role IN (
                    'maitre_e', 'maitre_g', 'psychologue', 'ien', 'cpc', 'maitre_formateur',
                    'mat', 'erun', 'referent_handicap', 'enseignant_upe2a', 'coordo_pial',
                    'coordo_ulis', 'coordo_rep_plus', 'directeur_referent', 'equipe_phare',
                    'infirmier', 'assistant_social', 'autre')),
    antenna     TEXT NOT NULL DEFAULT '',
    active_from TEXT NOT NULL CHECK (active_from IS date(active_from)),
    active_to   TEXT CHECK (active_to IS date(active_to) AND active_to >= active_from),
    capacity    INTEGER CHECK (capacity > 0),
    created_at  TEXT NOT NULL CHECK (datetime(created_at) IS NOT NULL),
    updated_at  TEXT NOT NULL CHECK (datetime(updated_at) IS NOT NULL)
);
CREATE INDEX members_by_role ON members (role, last_name);

-- Pupils. name_key is the folded "nom prénom" (no case, no accents) used to find a pupil who
-- already exists; two pupils with the same name and another birth date are two pupils.
-- Schema version 5: `pseudonym` is the one an imported pupil had in the export it came from
-- (NULL for a pupil entered here: exports compute it from the id and a secret of this base). A
-- pupil imported from a pseudonymised export is known by it only (last_name = the pseudonym,
-- first_name 'Élève') and has no birth date.
CREATE TABLE pupils (
    id         TEXT PRIMARY KEY CHECK (length(id) = 36),
    last_name  TEXT NOT NULL CHECK (length(trim(last_name)) > 0),
    first_name TEXT NOT NULL CHECK (length(trim(first_name)) > 0),
    birth_date TEXT CHECK (birth_date IS date(birth_date)),
    name_key   TEXT NOT NULL,
    created_at TEXT NOT NULL CHECK (datetime(created_at) IS NOT NULL),
    updated_at TEXT NOT NULL CHECK (datetime(updated_at) IS NOT NULL),
    pseudonym  TEXT CHECK (pseudonym IS NULL OR length(pseudonym) BETWEEN 4 AND 40)
);
CREATE INDEX pupils_by_name ON pupils (name_key, birth_date);

-- Case numbers 'AAAA-NNNN' per school year: the counter only grows, so a number is never reused.
CREATE TABLE case_counters (
    school_year   TEXT PRIMARY KEY CHECK (school_year GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]'),
    last_sequence INTEGER NOT NULL CHECK (last_sequence >= 0)
) WITHOUT ROWID;

-- One case per demande d'aide (annexe 1 of the note n°6): about a pupil (cas n°1) or about a
-- teacher, a team or a class (cas n°2).
CREATE TABLE cases (
    id                  TEXT PRIMARY KEY CHECK (length(id) = 36),
    number              TEXT NOT NULL UNIQUE
                        CHECK (number GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]*'),
    school_year         TEXT NOT NULL
                        CHECK (school_year GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]'),
    sequence            INTEGER NOT NULL CHECK (sequence > 0),
    subject_kind        TEXT NOT NULL CHECK (subject_kind IN ('eleve', 'enseignant', 'equipe', 'classe')),
    pupil_id            TEXT REFERENCES pupils (id),
    teacher_name        TEXT NOT NULL DEFAULT '',
    team_reference      TEXT NOT NULL DEFAULT '',
    dispositif          TEXT CHECK (dispositif IN ('ulis', 'upe2a')),
    handicap            INTEGER CHECK (handicap IN (0, 1)),
    aesh                INTEGER CHECK (aesh IN (0, 1)),
    school_id           TEXT NOT NULL REFERENCES schools (id),
    requester           TEXT NOT NULL CHECK (requester IN (
                            'enseignant', 'conseil_cycle', 'conseil_ecole', 'directeur',
                            'famille', 'autre')),
    requester_detail    TEXT NOT NULL DEFAULT '',
    date_sent           TEXT NOT NULL CHECK (date_sent IS date(date_sent)),
    date_received       TEXT CHECK (date_received IS date(date_received) AND date_received >= date_sent),
    urgent              INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1)),
    description         TEXT NOT NULL CHECK (length(trim(description)) > 0),
    other_motif         TEXT NOT NULL DEFAULT '',
    parents_informed_on TEXT CHECK (parents_informed_on IS date(parents_informed_on)),
    created_at          TEXT NOT NULL CHECK (datetime(created_at) IS NOT NULL),
    updated_at          TEXT NOT NULL CHECK (datetime(updated_at) IS NOT NULL),
    UNIQUE (school_year, sequence),
    CHECK ((subject_kind = 'eleve') = (pupil_id IS NOT NULL)),
    CHECK (subject_kind = 'eleve' OR (handicap IS NULL AND aesh IS NULL))
);
CREATE INDEX cases_by_year_date ON cases (school_year, date_sent DESC);
CREATE INDEX cases_by_school ON cases (school_id, school_year);
CREATE INDEX cases_by_pupil ON cases (pupil_id);
CREATE INDEX cases_urgent ON cases (school_year) WHERE urgent = 1;

-- The class level(s) concerned: one for a pupil, one or more for a mixed class (CP-CE1).
CREATE TABLE case_levels (
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    level   TEXT NOT NULL CHECK (level IN ('TPS', 'PS', 'MS', 'GS', 'CP', 'CE1', 'CE2', 'CM1', 'CM2')),
    PRIMARY KEY (case_id, level)
) WITHOUT ROWID;
CREATE INDEX case_levels_by_level ON case_levels (level);

-- Motifs of a request, several per case; rank 1 is the main motif.
CREATE TABLE case_motifs (
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    motif   TEXT NOT NULL CHECK (motif IN (
                'comportement_severe', 'situation_sensible', 'situation_crise',
                'conflit_parents', 'bep', 'aide_pap', 'orientation_segpa_maintien',
                'lecture', 'ecriture', 'mathematiques', 'langage_oral', 'attention',
                'comportement', 'autre')),
    rank    INTEGER NOT NULL CHECK (rank > 0),
    PRIMARY KEY (case_id, motif),
    UNIQUE (case_id, rank)
) WITHOUT ROWID;
CREATE INDEX case_motifs_by_motif ON case_motifs (motif, rank);

-- What the school already tried within the droit commun before asking.
CREATE TABLE case_prior_actions (
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    action  TEXT NOT NULL CHECK (action IN (
                'differenciation', 'apc', 'ppre', 'conseil_maitres', 'equipe_educative',
                'rencontre_famille', 'pap_pps', 'autre')),
    detail  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (case_id, action)
) WITHOUT ROWID;

-- School-year périodes (five, split by holidays), from the official calendar or by hand.
CREATE TABLE periods (
    id          TEXT PRIMARY KEY CHECK (length(id) = 36),
    school_year TEXT NOT NULL CHECK (school_year GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]'),
    number      INTEGER NOT NULL CHECK (number BETWEEN 1 AND 5),
    start_date  TEXT NOT NULL CHECK (start_date IS date(start_date)),
    end_date    TEXT NOT NULL CHECK (end_date IS date(end_date) AND end_date >= start_date),
    zone        TEXT CHECK (zone IN ('A', 'B', 'C')),
    source      TEXT NOT NULL CHECK (source IN ('officiel', 'manuel')),
    UNIQUE (school_year, number)
);

-- Meetings of the pôle ressource: one ordinary meeting per période, urgent ones in between.
CREATE TABLE meetings (
    id                    TEXT PRIMARY KEY CHECK (length(id) = 36),
    school_year           TEXT NOT NULL CHECK (school_year GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]'),
    period_number         INTEGER CHECK (period_number BETWEEN 1 AND 5),
    date                  TEXT NOT NULL CHECK (date IS date(date)),
    kind                  TEXT NOT NULL CHECK (kind IN ('ordinaire', 'urgente')),
    request_deadline_days INTEGER NOT NULL DEFAULT 6 CHECK (request_deadline_days >= 0),
    notes                 TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX one_ordinary_meeting_per_period
    ON meetings (school_year, period_number) WHERE kind = 'ordinaire';
CREATE INDEX meetings_by_date ON meetings (date);

-- Specialised aids of the RASED (E, G, psychologique): the caseloads are the open ones.
CREATE TABLE aids (
    id                   TEXT PRIMARY KEY CHECK (length(id) = 36),
    case_id              TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    member_id            TEXT NOT NULL REFERENCES members (id),
    kind                 TEXT NOT NULL CHECK (kind IN ('E', 'G', 'psy')),
    modality             TEXT NOT NULL CHECK (modality IN ('en_classe', 'co_intervention', 'petit_groupe', 'individuel')),
    sessions_per_week    REAL CHECK (sessions_per_week > 0 AND sessions_per_week <= 20),
    objectives           TEXT NOT NULL DEFAULT '',
    start_date           TEXT NOT NULL CHECK (start_date IS date(start_date)),
    expected_weeks       INTEGER CHECK (expected_weeks > 0),
    end_date             TEXT CHECK (end_date IS date(end_date) AND end_date >= start_date),
    end_reason           TEXT CHECK (end_reason IN (
                             'objectifs_atteints', 'relais_enseignant', 'orientation',
                             'retrait_consentement', 'depart_ecole', 'fin_annee', 'passation',
                             'autre')),
    end_note             TEXT NOT NULL DEFAULT '',
    consent_status       TEXT NOT NULL CHECK (consent_status IN ('donne', 'refuse', 'en_attente')),
    consent_form         TEXT CHECK (consent_form IN ('oral', 'ecrit')),
    consent_date         TEXT CHECK (consent_date IS date(consent_date)),
    consent_by           TEXT NOT NULL DEFAULT '',
    consent_withdrawn_on TEXT CHECK (consent_withdrawn_on IS date(consent_withdrawn_on)),
    created_at           TEXT NOT NULL CHECK (datetime(created_at) IS NOT NULL),
    updated_at           TEXT NOT NULL CHECK (datetime(updated_at) IS NOT NULL),
    CHECK ((end_date IS NULL) = (end_reason IS NULL)),
    -- a psychological assessment or follow-up needs the parents' written authorisation
    CHECK (kind <> 'psy' OR consent_status <> 'donne' OR consent_form = 'ecrit')
);
CREATE INDEX aids_by_case ON aids (case_id, start_date);
-- An aid of kind E, G or psy is given by a maître E, a maître G or a psychologue.
CREATE TRIGGER aid_giver_insert BEFORE INSERT ON aids
WHEN (SELECT role FROM members WHERE id = NEW.member_id)
     IS NOT CASE NEW.kind WHEN 'E' THEN 'maitre_e' WHEN 'G' THEN 'maitre_g' ELSE 'psychologue' END
BEGIN
    SELECT RAISE(ABORT, 'Une aide E est donnée par un maître E, une aide G par un maître G, une aide psychologique par un·e psychologue.');
END;
CREATE TRIGGER aid_giver_update BEFORE UPDATE OF member_id, kind ON aids
WHEN (SELECT role FROM members WHERE id = NEW.member_id)
     IS NOT CASE NEW.kind WHEN 'E' THEN 'maitre_e' WHEN 'G' THEN 'maitre_g' ELSE 'psychologue' END
BEGIN
    SELECT RAISE(ABORT, 'Une aide E est donnée par un maître E, une aide G par un maître G, une aide psychologique par un·e psychologue.');
END;
CREATE INDEX open_aids_by_member ON aids (member_id, start_date) WHERE end_date IS NULL;

-- Evaluations of an aid against its objectives (start / interim / end), optional score 0-10.
-- updated_at (version 5): when last changed (NULL: never), for imports to tell versions apart.
CREATE TABLE aid_evaluations (
    id           TEXT PRIMARY KEY CHECK (length(id) = 36),
    aid_id       TEXT NOT NULL REFERENCES aids (id) ON DELETE CASCADE,
    date         TEXT NOT NULL CHECK (date IS date(date)),
    phase        TEXT NOT NULL CHECK (phase IN ('debut', 'intermediaire', 'fin')),
    observations TEXT NOT NULL DEFAULT '',
    score        INTEGER CHECK (score BETWEEN 0 AND 10),
    created_at   TEXT NOT NULL CHECK (datetime(created_at) IS NOT NULL),
    updated_at   TEXT CHECK (updated_at IS NULL OR datetime(updated_at) IS NOT NULL)
);
CREATE INDEX evaluations_by_aid ON aid_evaluations (aid_id, date);

-- The timeline of a case: dated entries along the path of the note n°6 (annexe 2).
-- sub_kind names the response (1re / 2de intention) or, for a closure, its outcome.
-- updated_at (version 5): when last changed (NULL: never), for imports to tell versions apart.
CREATE TABLE timeline_entries (
    id               TEXT PRIMARY KEY CHECK (length(id) = 36),
    case_id          TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN (
                         'analyse', 'premiere_intention', 'seconde_intention', 'bilan',
                         'cloture', 'reouverture', 'report', 'note')),
    sub_kind         TEXT,
    date             TEXT NOT NULL CHECK (date IS date(date)),
    text             TEXT NOT NULL DEFAULT '',
    partner          TEXT CHECK (partner IN (
                         'cellule_ebep', 'equipe_tsa', 'itep', 'ime', 'iem', 'ies', 'sessad',
                         'cmpp', 'cmp', 'camsp', 'cms', 'autre')),
    meeting_id       TEXT REFERENCES meetings (id),
    aid_id           TEXT REFERENCES aids (id) ON DELETE SET NULL,
    action_id        TEXT CHECK (length(action_id) = 36),  -- one collective action shared by several cases
    to_school_year   TEXT CHECK (to_school_year GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]'),
    confidential     INTEGER NOT NULL DEFAULT 0 CHECK (confidential IN (0, 1)),
    author_member_id TEXT REFERENCES members (id),
    created_at       TEXT NOT NULL CHECK (datetime(created_at) IS NOT NULL),
    -- added by schema version 3 (at the end, where ALTER TABLE puts them in older files):
    -- with whom an entretien d'explicitation was held, and how an orientation was followed up
    interlocutor     TEXT CHECK (interlocutor IS NULL OR (interlocutor IN ('enseignant', 'equipe', 'famille')
                                                      AND sub_kind = 'entretien_explicitation')),
    follow_up        TEXT NOT NULL DEFAULT '',
    updated_at       TEXT CHECK (updated_at IS NULL OR datetime(updated_at) IS NOT NULL),
    CHECK (CASE kind
        WHEN 'premiere_intention' THEN sub_kind IN ('contact', 'observation_classe', 'entretien_explicitation')
        WHEN 'seconde_intention' THEN sub_kind IN (
            'aide_specialisee', 'accompagnement_professionnel', 'mutualisation',
            'observation_dispositif', 'formation_ciblee', 'orientation_partenaire')
        WHEN 'cloture' THEN sub_kind IN (
            'objectifs_atteints', 'relais_enseignant', 'orientation_partenaire', 'pap_pps',
            'depart_ecole', 'refus_famille', 'sans_suite', 'autre')
        ELSE sub_kind IS NULL END),
    CHECK ((kind = 'report') = (to_school_year IS NOT NULL)),
    CHECK (partner IS NULL OR sub_kind = 'orientation_partenaire')
);
CREATE INDEX timeline_by_case ON timeline_entries (case_id, date, created_at);
-- No step of a case is dated before the request was sent.
CREATE TRIGGER entry_not_before_request_insert BEFORE INSERT ON timeline_entries
WHEN NEW.date < (SELECT date_sent FROM cases WHERE id = NEW.case_id)
BEGIN
    SELECT RAISE(ABORT, 'Cette étape est datée d''avant l''envoi de la demande.');
END;
CREATE TRIGGER entry_not_before_request_update BEFORE UPDATE OF date, case_id ON timeline_entries
WHEN NEW.date < (SELECT date_sent FROM cases WHERE id = NEW.case_id)
BEGIN
    SELECT RAISE(ABORT, 'Cette étape est datée d''avant l''envoi de la demande.');
END;
CREATE INDEX timeline_by_kind ON timeline_entries (kind, date);
CREATE INDEX timeline_by_action ON timeline_entries (action_id) WHERE action_id IS NOT NULL;
CREATE INDEX timeline_carried ON timeline_entries (to_school_year) WHERE to_school_year IS NOT NULL;
-- The step that opened each aid (schema version 4: the waiting list dates proposed aids by it).
CREATE INDEX timeline_by_aid ON timeline_entries (aid_id) WHERE aid_id IS NOT NULL;

CREATE TABLE timeline_entry_members (
    entry_id  TEXT NOT NULL REFERENCES timeline_entries (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id),
    PRIMARY KEY (entry_id, member_id)
) WITHOUT ROWID;
CREATE INDEX entry_members_by_member ON timeline_entry_members (member_id);

-- The RASED aids (E, G, psy) a first analysis called for (schema version 4). Until an aid of
-- that kind starts in the case, the case is on the waiting list.
CREATE TABLE analysis_aid_calls (
    entry_id TEXT NOT NULL REFERENCES timeline_entries (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('E', 'G', 'psy')),
    PRIMARY KEY (entry_id, kind)
) WITHOUT ROWID;

-- The version (updated_at) of each record as the last import took it (schema version 5). A
-- record whose version here still equals its own was not changed on this side since: a newer
-- version from the same source replaces it; otherwise a difference is a conflict.
CREATE TABLE merged_versions (
    table_name TEXT NOT NULL,
    row_id     TEXT NOT NULL,
    version    TEXT NOT NULL,
    PRIMARY KEY (table_name, row_id)
) WITHOUT ROWID;

-- Append-only audit log, each row chained to the previous one by a SHA-256 hash (computed
-- by the store; `rased-tui check` verifies it). The chain covers the digests of the record
-- before and after, not their text: the retention purge may blank `before` and `after`
-- (they hold children's names) and the chain still proves that nothing else changed.
CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    table_name    TEXT NOT NULL,
    row_id        TEXT NOT NULL,
    before        TEXT,
    after         TEXT,
    before_digest TEXT NOT NULL,
    after_digest  TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL UNIQUE
);
-- The only change allowed is blanking the texts of a row (the purge); nothing can be deleted.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (NEW.seq IS OLD.seq AND NEW.at IS OLD.at AND NEW.actor IS OLD.actor
          AND NEW.action IS OLD.action AND NEW.table_name IS OLD.table_name
          AND NEW.row_id IS OLD.row_id AND NEW.before_digest IS OLD.before_digest
          AND NEW.after_digest IS OLD.after_digest AND NEW.prev_hash IS OLD.prev_hash
          AND NEW.hash IS OLD.hash AND NEW.before IS NULL AND NEW.after IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'journal d''audit : modification interdite');
END;
-- The journal of a case (version 3): its records by id, and what was deleted.
CREATE INDEX audit_by_row ON audit_log (row_id);
CREATE INDEX audit_deletions ON audit_log (table_name) WHERE action = 'suppression';
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'journal d''audit : suppression interdite');
END;

-- Derived status of each case, from its timeline (the same rule as domain/status.py):
-- the last closure or reopening decides; after a reopening (or from the start) the furthest
-- stage reached gives the status.
CREATE VIEW case_status AS
SELECT c.id AS case_id,
       CASE
           WHEN last_turn.kind = 'cloture' THEN
               CASE WHEN last_turn.sub_kind = 'sans_suite' THEN 'classee_sans_suite' ELSE 'cloturee' END
           ELSE coalesce(
               (SELECT CASE max(CASE e.kind WHEN 'analyse' THEN 1 WHEN 'premiere_intention' THEN 2
                                            WHEN 'seconde_intention' THEN 3 WHEN 'bilan' THEN 4 END)
                           WHEN 1 THEN 'en_analyse' WHEN 2 THEN 'premiere_intention'
                           WHEN 3 THEN 'seconde_intention' WHEN 4 THEN 'bilan' END
                  FROM timeline_entries e
                 WHERE e.case_id = c.id
                   AND e.kind IN ('analyse', 'premiere_intention', 'seconde_intention', 'bilan')
                   AND (last_turn.id IS NULL
                        OR (e.date, e.created_at, e.id) > (last_turn.date, last_turn.created_at, last_turn.id))),
               CASE WHEN last_turn.kind = 'reouverture' THEN 'rouverte' ELSE 'recue' END)
       END AS status
  FROM cases c
  LEFT JOIN timeline_entries last_turn ON last_turn.id = (
        SELECT t.id FROM timeline_entries t
         WHERE t.case_id = c.id AND t.kind IN ('cloture', 'reouverture')
         ORDER BY t.date DESC, t.created_at DESC, t.id DESC
         LIMIT 1);

-- The school years in which a case shows: its own, and each year it was carried into.
CREATE VIEW case_years AS
SELECT id AS case_id, school_year FROM cases
UNION
SELECT case_id, to_school_year FROM timeline_entries WHERE kind = 'report';

-- BEGIN search index (added by schema version 2; migrations.py applies this section)
-- Full-text search over pupil and teacher names, case numbers and texts, diacritics folded
-- ('helene' finds 'Hélène'). Confidential entries are not indexed. case_search_key gives each
-- case a stable integer (a plain rowid may change on VACUUM) used as the FTS rowid.
CREATE TABLE case_search_key (
    key     INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL UNIQUE REFERENCES cases (id) ON DELETE CASCADE
);
CREATE VIRTUAL TABLE case_search USING fts5 (
    number, names, texts,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIEW case_search_document AS
SELECT k.key AS key,
       c.id AS case_id,
       c.pupil_id AS pupil_id,
       c.number AS number,
       -- names also written without apostrophes and hyphens: 'ndiaye' finds N'Diaye
       trim(coalesce(p.first_name || ' ' || p.last_name || ' '
                     || replace(replace(p.first_name || ' ' || p.last_name, '''', ''), '-', ''), '')
            || ' ' || c.teacher_name || ' ' || c.team_reference) AS names,
       c.description || ' ' || c.other_motif
           || coalesce(' ' || (SELECT group_concat(e.text, ' ') FROM timeline_entries e
                                WHERE e.case_id = c.id AND e.confidential = 0), '')
           || coalesce(' ' || (SELECT group_concat(a.objectives, ' ') FROM aids a
                                WHERE a.case_id = c.id), '') AS texts
  FROM cases c
  JOIN case_search_key k ON k.case_id = c.id
  LEFT JOIN pupils p ON p.id = c.pupil_id;

-- Every trigger below refreshes a case's document the same way (delete, then insert from the
-- view): SQLite has no procedures, so a change to that refresh must be made in each of them.
-- While the setting 'search_suspended' exists (a bulk load inside one transaction), the
-- triggers below leave the index alone; the loader rebuilds it before committing.
CREATE TRIGGER case_search_case_insert AFTER INSERT ON cases
BEGIN
    INSERT INTO case_search_key (case_id) VALUES (NEW.id);
    INSERT INTO case_search (rowid, number, names, texts)
        SELECT key, number, names, texts FROM case_search_document
         WHERE case_id = NEW.id AND NOT EXISTS (SELECT 1 FROM settings WHERE key = 'search_suspended');
END;
CREATE TRIGGER case_search_case_update AFTER UPDATE ON cases
WHEN NOT EXISTS (SELECT 1 FROM settings WHERE key = 'search_suspended')
BEGIN
    DELETE FROM case_search WHERE rowid = (SELECT key FROM case_search_key WHERE case_id = NEW.id);
    INSERT INTO case_search (rowid, number, names, texts)
        SELECT key, number, names, texts FROM case_search_document WHERE case_id = NEW.id;
END;
CREATE TRIGGER case_search_case_delete BEFORE DELETE ON cases
BEGIN
    DELETE FROM case_search WHERE rowid = (SELECT key FROM case_search_key WHERE case_id = OLD.id);
END;
CREATE TRIGGER case_search_pupil_update AFTER UPDATE OF last_name, first_name ON pupils
WHEN NOT EXISTS (SELECT 1 FROM settings WHERE key = 'search_suspended')
BEGIN
    DELETE FROM case_search WHERE rowid IN (
        SELECT k.key FROM case_search_key k JOIN cases c ON c.id = k.case_id WHERE c.pupil_id = NEW.id);
    INSERT INTO case_search (rowid, number, names, texts)
        SELECT key, number, names, texts FROM case_search_document WHERE pupil_id = NEW.id;
END;
CREATE TRIGGER case_search_entry_insert AFTER INSERT ON timeline_entries
WHEN NOT EXISTS (SELECT 1 FROM settings WHERE key = 'search_suspended')
BEGIN
    DELETE FROM case_search WHERE rowid = (SELECT key FROM case_search_key WHERE case_id = NEW.case_id);
    INSERT INTO case_search (rowid, number, names, texts)
        SELECT key, number, names, texts FROM case_search_document WHERE case_id = NEW.case_id;
END;
CREATE TRIGGER case_search_entry_update AFTER UPDATE ON timeline_entries
WHEN NOT EXISTS (SELECT 1 FROM settings WHERE key = 'search_suspended')
BEGIN
    DELETE FROM case_search WHERE rowid IN (SELECT key FROM case_search_key WHERE case_id IN (OLD.case_id, NEW.case_id));
    INSERT INTO case_search (rowid, number, names, texts)
        SELECT key, number, names, texts FROM case_search_document WHERE case_id IN (OLD.case_id, NEW.case_id);
END;
CREATE TRIGGER case_search_entry_delete AFTER DELETE ON timeline_entries
WHEN NOT EXISTS (SELECT 1 FROM settings WHERE key = 'search_suspended')
BEGIN
    DELETE FROM case_search WHERE rowid = (SELECT key FROM case_search_key WHERE case_id = OLD.case_id);
    INSERT INTO case_search (rowid, number, names, texts)
        SELECT key, number, names, texts FROM case_search_document WHERE case_id = OLD.case_id;
END;
CREATE TRIGGER case_search_aid_insert AFTER INSERT ON aids
WHEN NOT EXISTS (SELECT 1 FROM settings WHERE key = 'search_suspended')
BEGIN
    DELETE FROM case_search WHERE rowid = (SELECT key FROM case_search_key WHERE case_id = NEW.case_id);
    INSERT INTO case_search (rowid, number, names, texts)
        SELECT key, number, names, texts FROM case_search_document WHERE case_id = NEW.case_id;
END;
CREATE TRIGGER case_search_aid_delete AFTER DELETE ON aids
WHEN NOT EXISTS (SELECT 1 FROM settings WHERE key = 'search_suspended')
BEGIN
    DELETE FROM case_search WHERE rowid = (SELECT key FROM case_search_key WHERE case_id = OLD.case_id);
    INSERT INTO case_search (rowid, number, names, texts)
        SELECT key, number, names, texts FROM case_search_document WHERE case_id = OLD.case_id;
END;
CREATE TRIGGER case_search_aid_update AFTER UPDATE OF objectives ON aids
WHEN NOT EXISTS (SELECT 1 FROM settings WHERE key = 'search_suspended')
BEGIN
    DELETE FROM case_search WHERE rowid = (SELECT key FROM case_search_key WHERE case_id = NEW.case_id);
    INSERT INTO case_search (rowid, number, names, texts)
        SELECT key, number, names, texts FROM case_search_document WHERE case_id = NEW.case_id;
END;
-- END search index

PRAGMA user_version = 5;
