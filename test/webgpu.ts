/**
 * What the WebGPU tests share: SwiftShader's Vulkan driver (Debian's chromium-common installs it) as Dawn's
 * adapter, and the skip rule: no driver here and none required → skip; LAB_REQUIRE_BROWSER=1 (set by .ci/run,
 * which installs chromium and libvulkan1) makes a missing one a failure. Numbers from SwiftShader say whether
 * numerics and code paths are right, never how fast a GPU is.
 */
import fs from 'node:fs';
import { SWIFTSHADER_ICD } from '../lab/compute.js';

const haveSwiftShader = fs.existsSync(SWIFTSHADER_ICD);
/** For describe.skipIf. */
export const skipWebgpuTests = !haveSwiftShader && process.env.LAB_REQUIRE_BROWSER !== '1';

/** The environment a child process (the CLI) needs to get the software adapter. */
export const SWIFTSHADER_ENV: Record<string, string> = { VK_ICD_FILENAMES: SWIFTSHADER_ICD };

/** Points this process's Vulkan loader at SwiftShader (before the first `initCompute('webgpu')`). */
export function useSwiftShader(): void {
  if (!haveSwiftShader) throw new Error(`no SwiftShader Vulkan driver at ${SWIFTSHADER_ICD} (apt-get install chromium libvulkan1)`);
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}
