-- Partly custom (drizzle-kit cannot declare triggers): the generated statements, then the
-- triggers that keep latest_metrics' copies of a run's rank columns (experiment_id, dataset, stage,
-- ranked; the rule is the run_ranks view of functions/db/schema.ts) in step on every write path,
-- and the backfill of existing rows. test/worker/leaderboard-ranked.test.ts checks both.
ALTER TABLE `latest_metrics` ADD `experiment_id` integer;--> statement-breakpoint
ALTER TABLE `latest_metrics` ADD `dataset` text;--> statement-breakpoint
ALTER TABLE `latest_metrics` ADD `stage` text;--> statement-breakpoint
ALTER TABLE `latest_metrics` ADD `ranked` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `latest_metrics_ranked_stage_idx` ON `latest_metrics` (`key`,`experiment_id`,`stage`,`value`) WHERE ranked = 1 and is_nan = 0;--> statement-breakpoint
CREATE INDEX `latest_metrics_ranked_dataset_idx` ON `latest_metrics` (`key`,`experiment_id`,`stage`,`dataset`,`value`) WHERE ranked = 1 and is_nan = 0;--> statement-breakpoint
CREATE INDEX `params_key_value_idx` ON `params` (`key`,`value`,`run_uuid`);--> statement-breakpoint
CREATE INDEX `tags_key_value_idx` ON `tags` (`key`,`value`,`run_uuid`);--> statement-breakpoint
CREATE VIEW `run_ranks` AS select "run_uuid", "experiment_id", "dataset", "stage", ("is_latest" = 1 and "status" = 'FINISHED' and "lifecycle_stage" = 'active') as "ranked" from "runs";--> statement-breakpoint
CREATE TRIGGER `latest_metrics_rank_on_insert` AFTER INSERT ON `latest_metrics`
BEGIN
  UPDATE `latest_metrics` SET (`experiment_id`, `dataset`, `stage`, `ranked`) =
    (SELECT `experiment_id`, `dataset`, `stage`, `ranked` FROM `run_ranks` WHERE `run_uuid` = NEW.`run_uuid`)
  WHERE `run_uuid` = NEW.`run_uuid` AND `key` = NEW.`key` AND EXISTS (SELECT 1 FROM `runs` WHERE `run_uuid` = NEW.`run_uuid`);
END;--> statement-breakpoint
CREATE TRIGGER `runs_rank_latest_metrics` AFTER UPDATE OF `is_latest`, `status`, `lifecycle_stage`, `dataset`, `stage` ON `runs`
WHEN OLD.`is_latest` IS NOT NEW.`is_latest` OR OLD.`status` IS NOT NEW.`status` OR OLD.`lifecycle_stage` IS NOT NEW.`lifecycle_stage`
  OR OLD.`dataset` IS NOT NEW.`dataset` OR OLD.`stage` IS NOT NEW.`stage`
BEGIN
  UPDATE `latest_metrics` SET (`experiment_id`, `dataset`, `stage`, `ranked`) =
    (SELECT `experiment_id`, `dataset`, `stage`, `ranked` FROM `run_ranks` WHERE `run_uuid` = NEW.`run_uuid`)
  WHERE `run_uuid` = NEW.`run_uuid`;
END;--> statement-breakpoint
UPDATE `latest_metrics` SET (`experiment_id`, `dataset`, `stage`, `ranked`) =
  (SELECT `experiment_id`, `dataset`, `stage`, `ranked` FROM `run_ranks` WHERE `run_uuid` = `latest_metrics`.`run_uuid`)
WHERE EXISTS (SELECT 1 FROM `runs` WHERE `run_uuid` = `latest_metrics`.`run_uuid`);
