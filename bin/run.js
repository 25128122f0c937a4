#!/usr/bin/env node
import {execute, settings} from '@oclif/core'

// The published package ships compiled JavaScript only. Never let oclif go looking for
// TypeScript sources because NODE_ENV happens to be "development" or "test" in the caller's
// environment (test runners set it).
settings.enableAutoTranspile = false

await execute({dir: import.meta.url})
