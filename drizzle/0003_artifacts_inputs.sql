CREATE TABLE `artifacts` (
	`run_uuid` text NOT NULL,
	`path` text NOT NULL,
	`size` integer NOT NULL,
	`sha256` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`run_uuid`, `path`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `datasets` (
	`dataset_uuid` text NOT NULL,
	`experiment_id` integer NOT NULL,
	`name` text NOT NULL,
	`digest` text NOT NULL,
	`dataset_source_type` text NOT NULL,
	`dataset_source` text NOT NULL,
	`dataset_schema` text,
	`dataset_profile` text,
	PRIMARY KEY(`experiment_id`, `name`, `digest`),
	FOREIGN KEY (`experiment_id`) REFERENCES `experiments`(`experiment_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `datasets_dataset_uuid_unique` ON `datasets` (`dataset_uuid`);--> statement-breakpoint
CREATE TABLE `input_tags` (
	`input_uuid` text NOT NULL,
	`name` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`input_uuid`, `name`)
);
--> statement-breakpoint
CREATE TABLE `inputs` (
	`input_uuid` text NOT NULL,
	`source_type` text NOT NULL,
	`source_id` text NOT NULL,
	`destination_type` text NOT NULL,
	`destination_id` text NOT NULL,
	PRIMARY KEY(`source_type`, `source_id`, `destination_type`, `destination_id`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `inputs_input_uuid_unique` ON `inputs` (`input_uuid`);--> statement-breakpoint
CREATE INDEX `inputs_destination_idx` ON `inputs` (`destination_type`,`destination_id`);