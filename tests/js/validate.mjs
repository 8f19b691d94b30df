// Validate glTF files with the Khronos glTF validator; print one JSON report per file.
// Usage: node validate.mjs FILE.glb [...]. Exit status 0 always; the caller reads the reports.
import { readFile } from "node:fs/promises";
import validator from "gltf-validator";

for (const file of process.argv.slice(2)) {
  const bytes = new Uint8Array(await readFile(file));
  const report = await validator.validateBytes(bytes, { maxIssues: 50 });
  const { numErrors, numWarnings, numInfos, messages } = report.issues;
  console.log(JSON.stringify({ file, numErrors, numWarnings, numInfos, messages, info: report.info }));
}
