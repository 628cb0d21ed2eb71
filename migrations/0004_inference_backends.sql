CREATE TABLE `inference_backends` (
	`id` text PRIMARY KEY NOT NULL,
	`upstreams` text NOT NULL,
	`models` text,
	`is_default` integer DEFAULT false NOT NULL,
	`balance` text NOT NULL,
	`credentials_kind` text,
	`credentials_ciphertext` text,
	`timeouts` text NOT NULL,
	`retry` text NOT NULL,
	`max_body_bytes` integer NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `inference_backends_one_default` ON `inference_backends` (`is_default`) WHERE "inference_backends"."is_default" = 1;--> statement-breakpoint
CREATE TABLE `ml_backends` (
	`id` text PRIMARY KEY NOT NULL,
	`backend_id` text NOT NULL,
	`model` text NOT NULL,
	`model_version` text,
	`task` text NOT NULL,
	`input` text NOT NULL,
	`output` text NOT NULL,
	`choices` text NOT NULL,
	`batch` integer NOT NULL,
	`from_name` text,
	`to_name` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`backend_id`) REFERENCES `inference_backends`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE INDEX `ml_backends_backend` ON `ml_backends` (`backend_id`);