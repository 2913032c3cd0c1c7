#!/usr/bin/env node
// The `tenantml` command: runs src/cli/main.ts through tsx (the project ships TypeScript sources).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
