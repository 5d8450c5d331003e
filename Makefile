# why-denied: build, demo and test targets. `make test` is what CI runs.
GO ?= go
BIN := bin/why-denied
FUZZTIME ?= 20s

.PHONY: build test demo fuzz bench vet clean

build:
	$(GO) build -o $(BIN) ./cmd/why-denied

# Runs every test: unit, corpus, differential (needs node/npm) and
# end-to-end against moto_server (needs moto).
test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# Diagnoses the bundled SAM fixture offline: no AWS account needed.
demo: build
	./$(BIN) --from-snapshot fixtures/sam-qualified-invoke.json || test $$? -eq 1

# Runs each fuzz target for FUZZTIME (seed corpora are checked in under
# testdata/fuzz and run by `make test` too).
fuzz:
	$(GO) test ./policy -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./policy -run '^$$' -fuzz '^FuzzGlob$$' -fuzztime $(FUZZTIME)
	$(GO) test ./diagnose -run '^$$' -fuzz '^FuzzReadEvidence$$' -fuzztime $(FUZZTIME)
	$(GO) test ./accessdenied -run '^$$' -fuzz '^FuzzParseDenial$$' -fuzztime $(FUZZTIME)
	$(GO) test ./awsclient -run '^$$' -fuzz '^FuzzParseArguments$$' -fuzztime $(FUZZTIME)

bench:
	$(GO) test ./policy ./diagnose -run '^$$' -bench . -benchmem

vet:
	$(GO) vet ./...

clean:
	rm -rf bin

# Times why-denied against moto_server behind a proxy that adds 50ms to every
# request (needs moto_server); not part of `make test`. See bench/README.md.
.PHONY: bench-live
bench-live:
	bench/live.sh
