"""Typed application settings: the only module that reads the environment (and `.env`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from pydantic import Field, PrivateAttr, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.limits import ITERATIONS_CEILING, MAX_CANDIDATES, MAX_PLATEAU_ROUNDS, MIN_SECRET_CHARS
from app.models.price_models import DEFAULT_PRICE_TABLE, PriceTable

_CONFIG = SettingsConfigDict(
    env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
)


def blank_is_none(value: object) -> object:
    """An empty or blank variable means "not set" (a `.env` line `KEY=` keeps no key)."""
    return None if isinstance(value, str) and not value.strip() else value


class ProviderSettings(BaseSettings):
    """One image provider's own settings, declared next to its tool: its key, base URL, models and
    limits. Each subclass sets `env_prefix`, so field `api_key` of the `OPENAI_IMAGE_` model is the
    variable OPENAI_IMAGE_API_KEY: a provider adds its variables without touching `Settings`.
    `Settings.provider(model)` builds one from the same `.env` and keyword values."""

    model_config = _CONFIG

    api_key: SecretStr | None = None
    base_url: str = ""

    _blank_key_is_none = field_validator("api_key", mode="before")(blank_is_none)

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable of one of this model's fields."""
        return f"{cls.model_config.get('env_prefix', '')}{field}".upper()

    @classmethod
    def key_env(cls) -> str:
        """The variable that holds this provider's key."""
        return cls.env_name("api_key")

    def key(self) -> str | None:
        """The key's value, or None when unset."""
        return self.api_key.get_secret_value() if self.api_key else None


P = TypeVar("P", bound=ProviderSettings)
Providers = Iterable[type[ProviderSettings]] | None


def defined_providers() -> list[type[ProviderSettings]]:
    """Every ProviderSettings subclass defined so far (each image tool module defines one)."""
    found: list[type[ProviderSettings]] = []
    stack = list(ProviderSettings.__subclasses__())
    while stack:
        model = stack.pop()
        found.append(model)
        stack.extend(model.__subclasses__())
    return found


class Settings(BaseSettings):
    """Every knob SFUMATO has; defaults suit a local run with no keys (offline demo mode)."""

    model_config = _CONFIG

    # Server
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    log_level: str = "INFO"
    cors_origins: list[str] = Field(default_factory=list)
    # Host names the server answers to besides 127.0.0.1:PORT, localhost:PORT and [::1]:PORT (and
    # HOST:PORT when HOST names one address): "name" (any port) or "name:port"; "*" turns the
    # check off (only behind a proxy that checks Host itself).
    allowed_hosts: list[str] = Field(default_factory=list)
    # Bounds of the built-in server: worker threads (each live event stream holds one), the seconds
    # a client has to send a whole request (line, headers and body), and the seconds a write to a
    # client that does not read may block.
    server_threads: int = Field(32, ge=4, le=512)
    request_read_timeout_s: float = Field(10.0, gt=0, le=300)
    response_write_timeout_s: float = Field(30.0, gt=0, le=600)

    # Storage and limits
    storage_dir: Path = Path("./data/sessions")
    max_iterations_default: int = Field(3, ge=1, le=20)
    max_iterations: int = Field(10, ge=1, le=ITERATIONS_CEILING)
    target_score_default: int = Field(90, ge=1, le=100)
    max_goal_chars: int = Field(2000, ge=10)
    max_prompt_chars: int = Field(8000, ge=100)
    max_feedback_chars: int = Field(2000, ge=10)
    max_request_bytes: int = Field(256 * 1024, ge=1024)
    max_image_bytes: int = Field(25 * 1024 * 1024, ge=1024)
    # The judge gets a copy of each image at most this many px on its longer side (JPEG).
    judge_image_max_px: int = Field(1024, ge=256, le=4096)
    # Full sessions kept in memory besides running ones (the list reads precomputed summaries).
    session_cache_size: int = Field(64, ge=1, le=10000)

    # OpenRouter (every text and vision LLM call)
    openrouter_api_key: SecretStr | None = None
    openrouter_base_url: str = "https://openrouter.ai/api/v1"
    openrouter_app_url: str = "https://github.com/sfumato-app/sfumato"
    openrouter_app_title: str = "SFUMATO"
    # Grok 4.3: the cheaper current Grok with image input and structured outputs (grok-4.1-fast
    # and grok-4-fast are retired); the judge gets the stronger Grok 4.7, which also sees images.
    model_prompt_gen: str = "x-ai/grok-4.3"
    model_prompt_revise: str = "x-ai/grok-4.3"
    model_judge: str = "x-ai/grok-4.7"
    model_recommend: str = "x-ai/grok-4.3"
    # The checklist is written with the text model; pairwise comparisons need the vision judge.
    model_checklist: str = "x-ai/grok-4.3"
    model_pairwise: str = "x-ai/grok-4.7"
    # Sent as OpenRouter's `reasoning.effort`; "low" keeps latency and cost down. Empty: not sent.
    openrouter_reasoning_effort: str | None = "low"

    # Image providers: each one's key, base URL and model are its own settings model, next to its
    # tool (e.g. OpenAIImageSettings in app/tools/openai_image_tool.py), built by `provider`.

    # Outgoing HTTP
    http_connect_timeout_s: float = Field(5.0, gt=0)
    text_read_timeout_s: float = Field(60.0, gt=0)
    image_read_timeout_s: float = Field(180.0, gt=0)
    http_max_retries: int = Field(2, ge=0, le=6)
    http_backoff_base_s: float = Field(0.5, ge=0)
    http_backoff_cap_s: float = Field(8.0, ge=0)
    http_retry_after_cap_s: float = Field(60.0, ge=0)
    # Total seconds one outside call may take, its retries and their waits included, per kind of
    # call; past it the call is `provider_timeout`, however the provider trickles its answer.
    text_deadline_s: float = Field(120.0, gt=0)
    image_deadline_s: float = Field(300.0, gt=0)
    download_deadline_s: float = Field(60.0, gt=0)

    # The judge-and-loop protocol: candidates per round (1..4), rounds without a pairwise win
    # before stopping (0: never), the default budget per run (None: none).
    candidates_default: int = Field(1, ge=1, le=MAX_CANDIDATES)
    plateau_rounds_default: int = Field(2, ge=0, le=MAX_PLATEAU_ROUNDS)
    budget_usd_default: float | None = Field(None, ge=0)
    # Most calls in flight at once per image provider and to OpenRouter, across all sessions, so
    # K parallel candidates never trip a rate limit that one call would not.
    provider_max_concurrency: dict[str, int] = Field(
        default_factory=lambda: {"demo": 8, "openai": 4, "grok": 4, "nano_banana": 4}
    )
    openrouter_max_concurrency: int = Field(8, ge=1, le=64)

    # Cost estimate: a JSON file shaped like app.models.price_models.PriceTable replaces the defaults.
    price_table_file: Path | None = None

    # Offline demo only: seconds of artificial latency per step, so a person can watch the progress.
    demo_step_delay_s: float = Field(0.5, ge=0, le=10)
    # The language of the prompt sent to the image provider (the one image models follow best),
    # whatever the person writes in; the person reads everything else in their own language.
    image_prompt_language: Literal["en", "ru"] = "en"

    # The keyword values and `.env` file this object was made with, which each provider's settings
    # model reads too (`provider`), and the models built so far.
    _given: dict[str, Any] = PrivateAttr(default_factory=dict)
    _env_file: Any = PrivateAttr(default=".env")
    _providers: dict[type[ProviderSettings], ProviderSettings] = PrivateAttr(default_factory=dict)

    _blank_key_is_none = field_validator(
        "openrouter_api_key", "openrouter_reasoning_effort", mode="before"
    )(blank_is_none)

    def __init__(self, **values: Any) -> None:
        """Takes keyword values for any provider's settings too (`openai_image_api_key=...`, as the
        variable is named): `Settings` ignores them, `provider` hands them to their model."""
        super().__init__(**values)
        self._env_file = values.get("_env_file", _CONFIG.get("env_file"))
        self._given = {k.lower(): v for k, v in values.items() if not k.startswith("_")}

    def provider(self, model: type[P]) -> P:
        """One provider's settings: its variables from the environment and the `.env` file this
        object read, and from the keyword values it was given (which win), built once."""
        built = self._providers.get(model)
        if not isinstance(built, model):
            prefix = str(model.model_config.get("env_prefix", "")).lower()
            own = {
                k.removeprefix(prefix): v for k, v in self._given.items() if k.startswith(prefix)
            }
            built = model(_env_file=self._env_file, **own)
            self._providers[model] = built
        return built

    @field_validator("log_level")
    @classmethod
    def _upper_level(cls, value: str) -> str:
        return value.upper()

    def key_for(self, env_name: str | None) -> str | None:
        """The secret value of a key setting by its variable name, or None when unset."""
        if env_name is None:
            return None
        secret = getattr(self, env_name.lower())
        return secret.get_secret_value() if secret else None

    def keys(self, providers: Providers = None) -> dict[str, str | None]:
        """Every key variable -> its value (None: unset): this object's own (OpenRouter's) and
        those of the given providers' settings models (the registry's: `settings_models()`);
        None: every provider settings model defined so far, so no caller can forget one."""
        own = {n: self.key_for(n) for n in key_names()}
        models = defined_providers() if providers is None else providers
        return own | {m.key_env(): self.provider(m).key() for m in models}

    def secret_values(self, providers: Providers = None) -> list[str]:
        """Every configured secret, for the log redaction filter (which leaves out values too
        short to be keys, and warns about them: `short_keys`). The app passes the registry's
        provider settings models (`provider_registry_tool.settings_models()`)."""
        return [v for v in self.keys(providers).values() if v]

    def short_keys(self, providers: Providers = None) -> list[str]:
        """The key variables set to a value shorter than any real key (MIN_SECRET_CHARS): it looks
        wrong, and it is not used for redaction (it would redact ordinary words)."""
        keys = self.keys(providers)
        return [n for n, v in keys.items() if 0 < len(v or "") < MIN_SECRET_CHARS]

    def price_table(self) -> PriceTable:
        """The price table the cost estimate reads (the file when one is set, else the defaults)."""
        if self.price_table_file is None:
            return DEFAULT_PRICE_TABLE
        return PriceTable.model_validate_json(self.price_table_file.read_text(encoding="utf-8"))

    @property
    def text_mode(self) -> str:
        """`openrouter` when its key is set, else the labelled `offline` stand-in."""
        return "openrouter" if self.openrouter_api_key else "offline"


def key_names() -> tuple[str, ...]:
    """The variable of every key setting of `Settings` itself (every `SecretStr` field: today
    OpenRouter's), in field order. Image providers' keys live in their own settings models, which
    the registry lists (`provider_registry_tool.settings_models()`)."""
    fields = Settings.model_fields.items()
    return tuple(name.upper() for name, f in fields if SecretStr in get_args(f.annotation))
