// Compare a regenerated reference fixture folder with the committed one: every file present in both, JSON
// files equal in structure and strings, numbers within a relative 1e-8 (the fixtures print 10 significant
// digits of float64 results, and the last digit can differ between CPUs and BLAS builds), other files byte
// for byte.   node scripts/reference/same.mjs <fresh dir> <committed dir>
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const REL = 1e-8
const ABS = 1e-15
const [fresh, committed] = process.argv.slice(2)
if (!fresh || !committed) {
  console.error('usage: node scripts/reference/same.mjs <fresh dir> <committed dir>')
  process.exit(2)
}
const problems = []
let worst = 0

function compare(a, b, where) {
  if (problems.length > 20) return
  if (typeof a === 'number' && typeof b === 'number') {
    const d = Math.abs(a - b)
    const scale = Math.max(Math.abs(a), Math.abs(b))
    if (scale > 0) worst = Math.max(worst, d / scale)
    if (!(d <= REL * scale + ABS)) problems.push(`${where}: ${a} vs ${b}`)
    return
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) {
      problems.push(`${where}: arrays differ in length or kind`)
      return
    }
    a.forEach((x, i) => compare(x, b[i], `${where}[${i}]`))
    return
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort()
    const kb = Object.keys(b).sort()
    if (ka.join('\n') !== kb.join('\n')) {
      problems.push(`${where}: keys differ (${ka.join(',')} vs ${kb.join(',')})`)
      return
    }
    for (const k of ka) compare(a[k], b[k], `${where}.${k}`)
    return
  }
  if (a !== b) problems.push(`${where}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`)
}

function walk(dir, rel = '') {
  return readdirSync(join(dir, rel)).flatMap((name) => {
    const r = rel ? `${rel}/${name}` : name
    return statSync(join(dir, r)).isDirectory() ? walk(dir, r) : [r]
  }).sort()
}

const fa = walk(fresh)
const fb = walk(committed)
if (fa.join('\n') !== fb.join('\n')) problems.push(`files differ: [${fa.join(', ')}] vs [${fb.join(', ')}]`)
for (const f of fa.filter((x) => fb.includes(x))) {
  const a = readFileSync(join(fresh, f))
  const b = readFileSync(join(committed, f))
  if (f.endsWith('.json')) compare(JSON.parse(a.toString('utf8')), JSON.parse(b.toString('utf8')), f)
  else if (!a.equals(b)) problems.push(`${f}: bytes differ`)
}
if (problems.length) {
  console.error(problems.join('\n'))
  process.exit(1)
}
console.log(`same: ${fa.length} files; largest relative difference of a number ${worst.toExponential(2)} (allowed ${REL})`)
