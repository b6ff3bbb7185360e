#!/usr/bin/env node
// The published entry point: a committed file, so package managers can link the bin before a build.
import '../dist/cli.js'
