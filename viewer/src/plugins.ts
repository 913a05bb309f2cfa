/** Registers every frame renderer under `src/renderers/` and every run view under `src/views/`. */
import.meta.glob('./renderers/*.ts', { eager: true });
import.meta.glob('./views/*.ts', { eager: true });
