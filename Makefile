# espat: the two set-up commands are `make run` and `make test` (see README).
BUILD      ?= build
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
FLASH      ?= espat-flash.bin

.PHONY: run test build binary configure fuzz-build deps clean

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DESPAT_FUZZ_DIR=$(abspath $(FUZZ_BUILD)) >/dev/null

# Everything: the binary, the tests, the benchmarks.
build: configure
	@cmake --build $(BUILD) -j$(JOBS)

# Only what `make run` runs.
binary: configure
	@cmake --build $(BUILD) -j$(JOBS) --target espat

# libFuzzer targets need clang; they get their own build directory.
fuzz-build: deps
	@CXX=clang++ CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DESPAT_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_targets

# A module on embedded defaults, typed into from this terminal (Enter sends CR-LF).
run: binary
	$(BUILD)/espat run --flash $(FLASH) --stdio

# Every test: unit, end-to-end, power-loss, and a short run of each fuzz target.
test: build fuzz-build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
