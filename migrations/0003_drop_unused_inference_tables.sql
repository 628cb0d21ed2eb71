DROP TABLE `inference_backends`;--> statement-breakpoint
DROP TABLE `ml_backends`;