"""Settings, read from the environment (prefix ``WASTEFLEET_``) or a ``.env`` file.

Only entry points (the CLI, the API's dependencies, the scheduler) read settings;
they pass plain values down, so domain functions never read globals.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OSM_FILE = Path(__file__).resolve().parent / "data" / "baltimore.osm.bz2"


class Settings(BaseSettings):
    """wastefleet settings, one field each, with units and defaults."""

    model_config = SettingsConfigDict(env_prefix="WASTEFLEET_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=PROJECT_ROOT / "var", description="Folder for the database and caches.")
    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL; default is an SQLite file in data_dir (wastefleet.db).",
    )
    osm_file: Path = Field(default=DEFAULT_OSM_FILE, description="OSM XML (.osm or .osm.bz2) road network.")
    output_dir: Path = Field(default=PROJECT_ROOT / "output", description="Where `demo` writes its files.")
    corridor_m: float = Field(default=50.0, description="Off-route distance that starts a detour (m).")
    corridor_back_m: float = Field(default=40.0, description="Distance that ends a detour (m).")
    detour_min_fixes: int = Field(default=3, description="Fixes needed off-route before a detour counts.")
    detour_min_s: float = Field(
        default=60.0, description="Seconds needed off-route before a detour counts (s)."
    )
    ingest_max_future_s: float = Field(
        default=300.0, description="Fixes more than this ahead of the server clock are rejected (s)."
    )
    ingest_max_age_s: float = Field(
        default=30 * 86_400.0,
        description="Fixes older than this are rejected, except in archive imports (s).",
    )
    osmand_speed_unit: str = Field(
        default="kn",
        description="Unit of the OsmAnd protocol's speed: kn (Traccar clients), mps (OsmAnd app), kph.",
    )

    @property
    def cache_dir(self) -> Path:
        """Folder for road-network caches (data_dir/cache)."""
        return self.data_dir / "cache"

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in force: DATABASE_URL, or the SQLite file in data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'wastefleet.db').resolve()}"


def get_settings() -> Settings:
    """Settings from the environment (a fresh read each call; cheap)."""
    return Settings()
