"""The Scrapy project: spiders, settings, middlewares, extensions, pipelines and the CLI."""
