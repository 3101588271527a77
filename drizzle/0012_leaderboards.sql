CREATE TABLE "leaderboard_boards" (
	"board" text PRIMARY KEY NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "leaderboard_entries" (
	"board" text NOT NULL,
	"user_id" text NOT NULL,
	"sort_key" double precision,
	"score" double precision NOT NULL,
	"name" text NOT NULL,
	"details" jsonb NOT NULL,
	"version" bigint NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "leaderboard_entries_board_user_id_pk" PRIMARY KEY("board","user_id")
);
--> statement-breakpoint
CREATE INDEX "leaderboard_entries_version_idx" ON "leaderboard_entries" USING btree ("board","version");--> statement-breakpoint
CREATE INDEX "leaderboard_entries_user_idx" ON "leaderboard_entries" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "leaderboard_entries_left_idx" ON "leaderboard_entries" USING btree ("updated_at") WHERE "leaderboard_entries"."sort_key" is null;