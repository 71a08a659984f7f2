CREATE TABLE `site_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`changed_at` integer NOT NULL,
	`pending_since` integer,
	`build_covers` integer,
	`build_started_at` integer,
	`build_version` text
);
