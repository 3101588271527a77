ALTER TABLE "attempts" ADD COLUMN "earned" double precision;--> statement-breakpoint
-- Attempts scored before the column existed: the same sum, from their recorded outcomes.
UPDATE "attempts" SET "earned" = (
  SELECT coalesce(sum(("o" ->> 'earned')::double precision), 0)
  FROM jsonb_array_elements("attempts"."outcomes") AS "o"
) WHERE "outcomes" IS NOT NULL;
