"""Settings for the ideas benchmark server: the real settings plus two bare baseline views."""

from cocreate.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.ideas_bench_urls"
