/*
 * Refuses, in one line, a Node older than package.json's `engines.node`: run first by the npm scripts
 * (before Node sees `--experimental-strip-types`, which Node 20 answers with only "bad option") and
 * required first by the `portcullis` command (before anything imports node:sqlite). Plain old syntax
 * and CommonJS, so that any Node can parse it; shipped in the package for the command.
 */
'use strict';

var required = require('../package.json').engines.node; // ">=22.13"

/** [major, minor, patch] of "v22.13.1", "22.13" or ">=22.13". */
function numbers(version) {
  var match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  return [Number(match[1]), Number(match[2]), Number(match[3] || 0)];
}

/** Whether Node `version` is older than the minimum of `range` (">=x.y[.z]"). */
function tooOld(version, range) {
  var found = numbers(version);
  var minimum = numbers(range);
  for (var i = 0; i < 3; i++) if (found[i] !== minimum[i]) return found[i] < minimum[i];
  return false;
}

if (tooOld(process.versions.node, required)) {
  process.stderr.write(
    'Portcullis needs Node.js ' + required.replace(/^>=\s*/, '') + ' or later, and this is Node.js ' + process.versions.node +
      ' (' + process.execPath + '): install Node.js 24 LTS (https://nodejs.org/en/download, or `nvm install 24`) and run it again.\n',
  );
  process.exit(1);
}

module.exports = { required: required, tooOld: tooOld };
