-- The five functions behind the attempts' outcome arrays (migration 0014), rewritten in PL/pgSQL
-- with the same results. PostgreSQL before 18 plans a SQL-language function that cannot be
-- inlined (these aggregate) again at every call, and a stored generated column calls it on every
-- insert: five plans per attempt row, about 100 µs of PostgreSQL's CPU for each started attempt,
-- the outcomes still null. PL/pgSQL keeps its plan for the session, and returns at once when
-- there are no outcomes. CREATE OR REPLACE keeps each function's identity, so the generated
-- columns that use them stay as they are.
CREATE OR REPLACE FUNCTION attempt_outcome_questions(outcomes jsonb) RETURNS text[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  AS $$ BEGIN
    IF jsonb_typeof(outcomes) IS DISTINCT FROM 'array' THEN RETURN NULL; END IF;
    RETURN (SELECT array_agg(e ->> 'questionId' ORDER BY n) FROM jsonb_array_elements(outcomes) WITH ORDINALITY AS t(e, n));
  END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION attempt_outcome_marks(outcomes jsonb) RETURNS double precision[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  AS $$ BEGIN
    IF jsonb_typeof(outcomes) IS DISTINCT FROM 'array' THEN RETURN NULL; END IF;
    RETURN (SELECT array_agg((e ->> 'earned')::double precision ORDER BY n) FROM jsonb_array_elements(outcomes) WITH ORDINALITY AS t(e, n));
  END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION attempt_outcome_maxima(outcomes jsonb) RETURNS double precision[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  AS $$ BEGIN
    IF jsonb_typeof(outcomes) IS DISTINCT FROM 'array' THEN RETURN NULL; END IF;
    RETURN (SELECT array_agg((e ->> 'max')::double precision ORDER BY n) FROM jsonb_array_elements(outcomes) WITH ORDINALITY AS t(e, n));
  END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION attempt_outcome_answered(outcomes jsonb) RETURNS boolean[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  AS $$ BEGIN
    IF jsonb_typeof(outcomes) IS DISTINCT FROM 'array' THEN RETURN NULL; END IF;
    RETURN (SELECT array_agg((e ->> 'answered')::boolean ORDER BY n) FROM jsonb_array_elements(outcomes) WITH ORDINALITY AS t(e, n));
  END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION attempt_outcome_picks(outcomes jsonb) RETURNS text[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  AS $$ BEGIN
    IF jsonb_typeof(outcomes) IS DISTINCT FROM 'array' THEN RETURN NULL; END IF;
    RETURN (SELECT array_agg(e ->> 'picked' ORDER BY n) FROM jsonb_array_elements(outcomes) WITH ORDINALITY AS t(e, n));
  END $$;
