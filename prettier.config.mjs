// Prettier: the one code style of the repository (`npm run format`, checked by `npm run format:check` in `npm test`).
/** @type {import('prettier').Config} */
export default {
  // 120, not Prettier's 80: the numeric core writes equations and index arithmetic on one line each
  // (`G[(n - 1) * S + h] = fwd.seeds[j * H + h]`), and the findings build one message per template string.
  // At 80 those wrap into fragments that are harder to check against the formulas in the comments; 120
  // still fits two files side by side on a laptop screen.
  printWidth: 120,
  singleQuote: true,
  trailingComma: 'all',
};
