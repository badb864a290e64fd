# Two commands matter: `make demo` and `make test` (see README's Quick start).
.PHONY: demo test bootstrap lint format

bootstrap:
	./scripts/bootstrap

demo: bootstrap
	.venv/bin/journeylens demo demo --serve

test: bootstrap
	./scripts/check

format: bootstrap
	.venv/bin/ruff format src tests
	.venv/bin/ruff check --fix src tests
