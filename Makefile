# Kindling — the two commands a newcomer runs:
#   make demo   installs what is missing, builds in release, trains an MLP on Fashion-MNIST
#   make test   installs what is missing, then runs the whole test suite

SWIFT ?= swift
DEMO_ARGS ?=

.PHONY: deps demo test build bench train-cnn graph clean

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product kindling

demo: build
	$(SWIFT) run -c release kindling train --report reports/mlp $(DEMO_ARGS)
	@echo "Open reports/mlp/index.html to see the curves, the model's graph and its mistakes."

graph: build
	$(SWIFT) run -c release kindling graph --model mlp --out reports/mlp-graph.svg

train-cnn: build
	$(SWIFT) run -c release kindling train --model cnn --report reports/cnn

bench: build
	$(SWIFT) run -c release kindling bench

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) run --skip-build grader sync --check
	$(SWIFT) test --skip-build

clean:
	rm -rf .build
