"""xAI image generation (Grok Imagine): `POST /images/generations`, OpenAI-shaped; with input
images `POST /images/edits` (JSON, up to 3 images as base64 data URIs).

xAI takes `aspect_ratio` and `resolution` (not `size` or `style`, which it rejects); `quality` only
matters to the 2.0 model. The answer holds either a hosted `url`, which expires and is downloaded at
once (without our key, with a size cap), or `b64_json`. Its `revised_prompt` is what was drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal
from urllib.parse import urlsplit

from app.models.provider_models import (
    GeneratedImage,
    ModelCapabilities,
    SourceImage,
)
from app.settings import ProviderSettings, Settings
from app.tools.http_tool import (
    HttpTool,
    bad_response,
    decode_base64_image,
)
from app.tools.image_request_tool import About, HttpImageTool, answer_image, data_url, with_legend

ASPECT_RATIOS = (
    "1:1",
    "3:2",
    "2:3",
    "4:3",
    "3:4",
    "16:9",
    "9:16",
    "2:1",
    "1:2",
    "19.5:9",
    "9:19.5",
    "20:9",
    "9:20",
)
RESOLUTIONS = ("1k", "2k")
QUALITIES = ("low", "medium")  # the price tiers of grok-imagine-image-2.0; others ignore it
# Unsure: xAI documents no prompt limit; this is a conservative cap, the API's 400 still maps.
MAX_PROMPT_CHARS = 8000
# "Multi-image editing supports up to 3 source images in a single request" (docs.x.ai,
# developers/model-capabilities/images/multi-image-editing); unsure for -pro, assumed the same.
MAX_INPUT_IMAGES = 3


def _model(model_id: str, description: str, qualities: tuple[str, ...] = ()) -> ModelCapabilities:
    defaults: dict[str, Any] = {"aspect_ratio": "1:1", "resolution": "1k"}
    if qualities:
        defaults["quality"] = "medium"
    return ModelCapabilities(
        id=model_id,
        description=description,
        supported_aspect_ratios=list(ASPECT_RATIOS),
        supported_resolutions=list(RESOLUTIONS),
        supported_qualities=list(qualities),
        max_input_images=MAX_INPUT_IMAGES,
        defaults=defaults,
    )


# xAI's image API documents these four ids (the -beta ids and grok-2-image are retired aliases).
MODEL_CAPABILITIES = (
    _model("grok-imagine-image", "Grok Imagine: fast and the cheapest (about $0.02 an image)."),
    _model(
        "grok-imagine-image-2.0",
        "Grok Imagine 2.0: better text and detail; quality low or medium picks its price tier.",
        QUALITIES,
    ),
    _model(
        "grok-imagine-image-quality",
        "Grok Imagine Quality: finer textures and realism, about twice the standard price.",
    ),
    _model(
        "grok-imagine-image-pro",
        "Grok Imagine Pro: the highest fidelity and prompt control, the dearest (about $0.07).",
    ),
)


class GrokImageSettings(ProviderSettings, env_prefix="GROK_"):
    """The `grok` provider's variables: GROK_API_KEY, GROK_BASE_URL, GROK_IMAGE_MODEL,
    GROK_RESPONSE_FORMAT."""

    base_url: str = "https://api.x.ai/v1"
    image_model: str = "grok-imagine-image"
    # "b64_json" saves a second download of an expiring URL; "url" is handled too.
    response_format: Literal["b64_json", "url"] = "b64_json"


class GrokImageTool(
    HttpImageTool, name="grok", settings=GrokImageSettings, models=MODEL_CAPABILITIES
):
    """Fast, wide aspect-ratio menu; returns the prompt it actually drew from."""

    model_field = "image_model"
    about = About("xAI Grok Imagine", "prose", "grok_prompting_guide.md", MAX_PROMPT_CHARS)

    @staticmethod
    def unknown_model(model_id: str) -> ModelCapabilities:
        return _model(model_id, "Set by GROK_IMAGE_MODEL.")

    def configure(self, settings: Settings, own: Any) -> None:
        key, transport, sleep = self.client_parts
        self.response_format = own.response_format
        self.max_image_bytes = settings.max_image_bytes
        # A separate client for hosted images: the key must never travel to the image host.
        self.downloads = HttpTool.for_images(
            settings, self.name, "", {}, key, transport, sleep, settings.download_deadline_s
        )

    def send(
        self, model: str, text: str, params: dict[str, Any], sources: Sequence[SourceImage]
    ) -> Any:
        """Input images go to `images/edits` only: `images/generations` ignores them and still
        bills the call."""
        if not sources:
            payload = build_payload(model, text, params, self.response_format)
            return self.http.post_json("images/generations", payload, model=model)
        payload = build_payload(model, with_legend(text, sources), params, self.response_format)
        payload.update(edit_images(sources))
        return self.http.post_json("images/edits", payload, model=model)

    def parse(self, body: Any, model: str) -> GeneratedImage:
        item = first_item(self.name, body)
        data = self._image_bytes(item, model)
        return answer_image(
            self.name, data, model, revised=item.get("revised_prompt"), usage=body.get("usage")
        )

    def close(self) -> None:
        super().close()
        self.downloads.close()

    def _image_bytes(self, item: dict[str, Any], model: str) -> bytes:
        """Decode `b64_json`, or download `url` right away (hosted URLs expire)."""
        encoded = item.get("b64_json")
        if isinstance(encoded, str) and encoded:
            return decode_base64_image(self.name, encoded)
        url = item.get("url")
        if not isinstance(url, str) or urlsplit(url).scheme != "https":
            raise bad_response(self.name, "the answer had neither b64_json nor an https url")
        data, _ = self.downloads.get_bytes(url, max_bytes=self.max_image_bytes)
        return data


def accepts_quality(model: str) -> bool:
    """Only the 2.0 generation of Grok Imagine reads `quality` (it picks the price tier)."""
    return "image-2" in model


def build_payload(
    model: str, prompt: str, params: dict[str, Any], response_format: str
) -> dict[str, Any]:
    """The request body: never `size` or `style`, which xAI rejects."""
    payload: dict[str, Any] = {
        "model": model,
        "prompt": prompt,
        "n": 1,
        "response_format": response_format,
    }
    for field in ("aspect_ratio", "resolution"):
        if params.get(field):
            payload[field] = params[field]
    if params.get("quality") and accepts_quality(model):
        payload["quality"] = params["quality"]
    return payload


def edit_images(sources: Sequence[SourceImage]) -> dict[str, Any]:
    """The input images of an edit, as xAI's REST reference for `POST /v1/images/edits` defines
    them (docs.x.ai, developers/model-capabilities/images/editing and multi-image-editing): JSON,
    each image an object whose `url` is a public URL or a base64 data URI, `image` for one and
    `images` (mutually exclusive with `image`) for several, in the order the prompt refers to."""
    images = [{"url": data_url(source), "type": "image_url"} for source in sources]
    return {"image": images[0]} if len(images) == 1 else {"images": images}


def first_item(provider: str, body: Any) -> dict[str, Any]:
    items = body.get("data") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        raise bad_response(provider, "no data[0] in the answer")
    return items[0]
