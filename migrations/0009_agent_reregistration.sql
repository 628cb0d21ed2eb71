ALTER TABLE `clusters` ADD `replaced_credential_hash` text;--> statement-breakpoint
ALTER TABLE `clusters` ADD `reregistration_requested_at` text;