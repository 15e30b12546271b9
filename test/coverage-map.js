// Coverage is measured on the library only (never on tests, helpers, the tap before-step or bench):
// tap globs this pattern from the project root for every test file.
export default function coverageMap () {
  return ['lib/**/*.ts']
}
