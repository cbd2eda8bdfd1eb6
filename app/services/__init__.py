"""Business logic of the pipeline: sessions, prompts, images, judging, the optimize loop, runs."""
