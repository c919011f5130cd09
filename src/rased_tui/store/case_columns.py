"""SQL expressions that several lists of cases share (the cases list, caseloads, waiting list).

Each reads a case `c` joined to its pupil `p` (LEFT JOIN: a request may be about a teacher).
"""

# Who or what a case is about, as the lists show it: the pupil, the team, or the teacher — or
# the kind of subject where the name is not known (a pseudonymised export opened for review).
SUBJECT_SQL = """CASE WHEN p.id IS NOT NULL THEN p.last_name || ' ' || p.first_name
                      WHEN c.subject_kind = 'equipe' THEN coalesce(nullif(c.team_reference, ''), 'Équipe d''école')
                      ELSE coalesce(nullif(c.teacher_name, ''),
                                    CASE c.subject_kind WHEN 'classe' THEN 'Classe' ELSE 'Enseignant·e' END) END"""
# The case's levels in school order, joined by '-' ('CE2-CM1').
LEVELS_SQL = """(SELECT group_concat(level, '-') FROM (
                    SELECT level FROM case_levels WHERE case_id = c.id
                     ORDER BY instr(',TPS,PS,MS,GS,CP,CE1,CE2,CM1,CM2,', ',' || level || ',')))"""
