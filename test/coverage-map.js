// Each test file covers the whole library: coverage is measured on lib/ only (never on tests, helpers or bench).
export default function coverageMap () {
  return ['lib/']
}
