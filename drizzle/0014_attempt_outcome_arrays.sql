-- The outcomes of an attempt again as parallel arrays, one element per outcome in order, for the
-- quiz report's one pass over every outcome (attempts.statistics.ts): unnesting arrays is about a
-- third cheaper than parsing the JSON. Derived by the database (stored generated columns), so
-- they can never disagree with `outcomes`; attempts scored earlier get them when the column is
-- added. A field an outcome lacks is a null element (older attempts have no `answered`); no
-- outcomes (null, empty, or not an array) give null arrays.
CREATE FUNCTION attempt_outcome_questions(outcomes jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT array_agg(e ->> 'questionId' ORDER BY n) FROM jsonb_array_elements(CASE WHEN jsonb_typeof(outcomes) = 'array' THEN outcomes END) WITH ORDINALITY AS t(e, n) $$;--> statement-breakpoint
CREATE FUNCTION attempt_outcome_marks(outcomes jsonb) RETURNS double precision[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT array_agg((e ->> 'earned')::double precision ORDER BY n) FROM jsonb_array_elements(CASE WHEN jsonb_typeof(outcomes) = 'array' THEN outcomes END) WITH ORDINALITY AS t(e, n) $$;--> statement-breakpoint
CREATE FUNCTION attempt_outcome_maxima(outcomes jsonb) RETURNS double precision[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT array_agg((e ->> 'max')::double precision ORDER BY n) FROM jsonb_array_elements(CASE WHEN jsonb_typeof(outcomes) = 'array' THEN outcomes END) WITH ORDINALITY AS t(e, n) $$;--> statement-breakpoint
CREATE FUNCTION attempt_outcome_answered(outcomes jsonb) RETURNS boolean[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT array_agg((e ->> 'answered')::boolean ORDER BY n) FROM jsonb_array_elements(CASE WHEN jsonb_typeof(outcomes) = 'array' THEN outcomes END) WITH ORDINALITY AS t(e, n) $$;--> statement-breakpoint
CREATE FUNCTION attempt_outcome_picks(outcomes jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT array_agg(e ->> 'picked' ORDER BY n) FROM jsonb_array_elements(CASE WHEN jsonb_typeof(outcomes) = 'array' THEN outcomes END) WITH ORDINALITY AS t(e, n) $$;--> statement-breakpoint
-- One statement: the table is rewritten once, not five times.
ALTER TABLE "attempts"
  ADD COLUMN "outcome_questions" text[] GENERATED ALWAYS AS (attempt_outcome_questions(outcomes)) STORED,
  ADD COLUMN "outcome_marks" double precision[] GENERATED ALWAYS AS (attempt_outcome_marks(outcomes)) STORED,
  ADD COLUMN "outcome_maxima" double precision[] GENERATED ALWAYS AS (attempt_outcome_maxima(outcomes)) STORED,
  ADD COLUMN "outcome_answered" boolean[] GENERATED ALWAYS AS (attempt_outcome_answered(outcomes)) STORED,
  ADD COLUMN "outcome_picks" text[] GENERATED ALWAYS AS (attempt_outcome_picks(outcomes)) STORED;
