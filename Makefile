# Thin wrappers over npm scripts and infra/local.sh; the logic lives there.
.PHONY: demo test lint build bench quality faults infra-up infra-down infra-status tools clean

# A Node.js that infra/install-tools.sh installed (when the machine's is older than 22) comes first.
export PATH := $(CURDIR)/.local/node/bin:$(PATH)

node_modules/.package-lock.json: package.json package-lock.json | tools
	npm ci

tools:
	bash infra/install-tools.sh

infra-up: tools
	bash infra/local.sh up

infra-down:
	bash infra/local.sh down

infra-status:
	bash infra/local.sh status

build: node_modules/.package-lock.json
	npm run build

lint: node_modules/.package-lock.json
	npm run lint

## The live demo: infrastructure, the three services, a simulated feed, model versions as they appear.
demo: node_modules/.package-lock.json infra-up
	npm run demo

## Every test: lint, type-check, unit, component and e2e against the real servers, with coverage.
test: node_modules/.package-lock.json infra-up
	npm test

bench: node_modules/.package-lock.json infra-up
	npm run bench

quality: node_modules/.package-lock.json
	npm run quality

## The fault suite (docs/RELIABILITY.md): the loop under kills, freezes and database restarts, checked.
faults: node_modules/.package-lock.json infra-up
	npm run faults -- --write-doc $(FAULTS_ARGS)

clean:
	npm run clean
