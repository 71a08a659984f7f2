CREATE TABLE `api_tokens` (
	`name` text PRIMARY KEY NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_hash_idx` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE TABLE `experiment_tags` (
	`experiment_id` integer NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`experiment_id`, `key`),
	FOREIGN KEY (`experiment_id`) REFERENCES `experiments`(`experiment_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `experiments` (
	`experiment_id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`artifact_location` text NOT NULL,
	`lifecycle_stage` text DEFAULT 'active' NOT NULL,
	`creation_time` integer NOT NULL,
	`last_update_time` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `experiments_name_unique` ON `experiments` (`name`);--> statement-breakpoint
CREATE TABLE `latest_metrics` (
	`run_uuid` text NOT NULL,
	`key` text NOT NULL,
	`step` integer NOT NULL,
	`timestamp` integer NOT NULL,
	`value` real NOT NULL,
	`is_nan` integer DEFAULT false NOT NULL,
	PRIMARY KEY(`run_uuid`, `key`)
);
--> statement-breakpoint
CREATE INDEX `latest_metrics_key_value_idx` ON `latest_metrics` (`key`,`value`);--> statement-breakpoint
CREATE TABLE `metrics` (
	`run_uuid` text NOT NULL,
	`key` text NOT NULL,
	`step` integer NOT NULL,
	`timestamp` integer NOT NULL,
	`value` real NOT NULL,
	`is_nan` integer DEFAULT false NOT NULL,
	PRIMARY KEY(`run_uuid`, `key`, `step`, `timestamp`, `value`, `is_nan`)
);
--> statement-breakpoint
CREATE TABLE `params` (
	`run_uuid` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`run_uuid`, `key`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `runs` (
	`run_uuid` text PRIMARY KEY NOT NULL,
	`experiment_id` integer NOT NULL,
	`name` text NOT NULL,
	`user_id` text DEFAULT '' NOT NULL,
	`status` text NOT NULL,
	`start_time` integer NOT NULL,
	`end_time` integer,
	`artifact_uri` text NOT NULL,
	`lifecycle_stage` text DEFAULT 'active' NOT NULL,
	`deleted_time` integer,
	`dataset` text,
	`model_size` text,
	`stage` text,
	`kd` integer,
	`attempt` integer DEFAULT 1 NOT NULL,
	`is_latest` integer DEFAULT true NOT NULL,
	FOREIGN KEY (`experiment_id`) REFERENCES `experiments`(`experiment_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `runs_experiment_start_idx` ON `runs` (`experiment_id`,`start_time`);--> statement-breakpoint
CREATE INDEX `runs_name_idx` ON `runs` (`experiment_id`,`name`,`start_time`);--> statement-breakpoint
CREATE INDEX `runs_latest_start_idx` ON `runs` (`is_latest`,`start_time`);--> statement-breakpoint
CREATE INDEX `runs_latest_dataset_stage_idx` ON `runs` (`is_latest`,`dataset`,`stage`,`start_time`);--> statement-breakpoint
CREATE TABLE `tags` (
	`run_uuid` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`run_uuid`, `key`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE no action
);
