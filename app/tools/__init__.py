"""Integrations: OpenRouter, image providers, storage and logging. Nothing above this layer sees httpx."""
