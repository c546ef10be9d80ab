#!/usr/bin/env node
// The package's command. The local provider is bundled into lib/local/cli.js at build time.
require('../lib/local/cli.js').run();
