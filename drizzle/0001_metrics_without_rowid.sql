-- Custom migration (drizzle-kit cannot declare WITHOUT ROWID tables:
-- https://github.com/drizzle-team/drizzle-orm/issues/408; its snapshot still shows a rowid table,
-- and test/worker/schema.test.ts checks the migrated one).
-- metrics is clustered on its primary key: one B-tree instead of a rowid table plus a primary-key
-- index, so D1 writes one row per logged point instead of two. (latest_metrics stays a rowid table:
-- its rowid keeps the order in which keys were first logged, which MLflow's responses follow.)
-- It also creates MLflow's Default experiment, id 0, which always exists.
DROP TABLE `metrics`;--> statement-breakpoint
CREATE TABLE `metrics` (
	`run_uuid` text NOT NULL,
	`key` text NOT NULL,
	`step` integer NOT NULL,
	`timestamp` integer NOT NULL,
	`value` real NOT NULL,
	`is_nan` integer DEFAULT false NOT NULL,
	PRIMARY KEY(`run_uuid`, `key`, `step`, `timestamp`, `value`, `is_nan`)
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO `experiments` (`experiment_id`, `name`, `artifact_location`, `lifecycle_stage`, `creation_time`, `last_update_time`)
VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', 0, 0);
