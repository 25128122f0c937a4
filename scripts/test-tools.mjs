// Before `npm test`: the metrics tests check synthex's output with the real Prometheus tools
// (promtool, and a Pushgateway to push to). They come from Debian's packages `prometheus`
// and `prometheus-pushgateway`; install them when this machine can (root with apt-get), and
// otherwise say what is missing: those tests then fail naming the package.
import {execFileSync, spawnSync} from 'node:child_process'

const TOOLS = {'prometheus-pushgateway': 'prometheus-pushgateway', promtool: 'prometheus'}
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], {stdio: 'ignore'}).status === 0
const missing = Object.entries(TOOLS).filter(([command]) => !has(command))

if (missing.length > 0) {
  const packages = [...new Set(missing.map(([, pkg]) => pkg))]
  const canInstall = process.getuid?.() === 0 && has('apt-get')
  if (canInstall) {
    console.error(`Installing ${packages.join(' ')} (Debian packages) for the metrics tests...`)
    const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive'}
    const install = () => spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], {env, stdio: 'inherit'}).status === 0
    if (!install()) {
      execFileSync('apt-get', ['update', '-q'], {env, stdio: 'inherit'})
      install()
    }
  } else {
    console.error(`The metrics tests need ${missing.map(([command]) => command).join(' and ')}: install the Debian package(s) ${packages.join(' ')} (apt-get install ${packages.join(' ')}).`)
  }
}
