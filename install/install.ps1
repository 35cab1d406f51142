<#
.SYNOPSIS
  xlhedge installer for Windows with desktop Excel.
.DESCRIPTION
  powershell -ExecutionPolicy Bypass -File install\install.ps1             install or update (safe to run again)
  powershell -ExecutionPolicy Bypass -File install\install.ps1 -Uninstall  remove xlhedge (your workbooks are kept)
  Options: -Prefix DIR (default %USERPROFILE%\.xlhedge), -Source SPEC (a path or pip spec; default: this
  checkout), -NoExcel (command line only).
  Works in Windows PowerShell 5.1 and PowerShell 7. This file is plain ASCII on purpose: 5.1 reads
  scripts without a byte-order mark in the ANSI code page.
#>
[CmdletBinding()]
param(
    [switch]$Uninstall,
    [string]$Prefix = $(if ($env:XLHEDGE_HOME) { $env:XLHEDGE_HOME } else { Join-Path $env:USERPROFILE ".xlhedge" }),
    [string]$Source = "",
    [switch]$NoExcel
)
# Cmdlet errors stop the script. Native programs (python, pip) are run through Invoke-Native, which
# judges them by their exit code only: in Windows PowerShell 5.1 a native program's stderr line
# becomes an error record, and with "Stop" a harmless pip warning would end the install.
$ErrorActionPreference = "Stop"

function Say([string]$Text) { Write-Host "xlhedge: $Text" }
function Die([string]$Text) { Write-Host "xlhedge: $Text" -ForegroundColor Red; exit 1 }

function Invoke-Native {
    param([string]$Exe, [string[]]$Arguments, [switch]$Quiet)
    $saved = $ErrorActionPreference
    $ErrorActionPreference = "Continue"
    try {
        $output = & $Exe @Arguments 2>&1 | ForEach-Object { "$_" }
        $code = $LASTEXITCODE
    } finally {
        $ErrorActionPreference = $saved
    }
    if (-not $Quiet -and $output) { $output | ForEach-Object { Write-Host $_ } }
    return $code
}

$Venv = Join-Path $Prefix "venv"
$Py = Join-Path $Venv "Scripts\python.exe"
$BinDir = Join-Path $env:LOCALAPPDATA "xlhedge\bin"
$Docs = [Environment]::GetFolderPath("MyDocuments")
$PyMin = "3.11"  # what the pinned xlwings needs (xlhedge/xlwings_setup.py: PYTHON_REQUIRED)

# The user-level xlwings.conf (%USERPROFILE%\.xlwings\xlwings.conf) is written by xlhedge itself, in the
# ANSI code page that the xlwings VBA reads it with (a user name with an accent survives).
function Edit-Conf([string]$Action) {
    $code = Invoke-Native $Py @("-m", "xlhedge.xlwings_setup", "$Action-config", "--platform", "windows",
                                "--interpreter", $Py) -Quiet
    return ($code -eq 0)
}

if ($Uninstall) {
    if ((Test-Path $Py) -and -not $NoExcel) { Edit-Conf "remove" | Out-Null }
    if (Test-Path (Join-Path $BinDir "xlhedge.cmd")) { Remove-Item -Force (Join-Path $BinDir "xlhedge.cmd") }
    if (Test-Path $Venv) { Remove-Item -Recurse -Force $Venv }
    if ((Test-Path $Prefix) -and -not (Get-ChildItem $Prefix)) { Remove-Item $Prefix }
    Say "removed. Your workbooks (e.g. $Docs\xlhedge.xlsm) were left where they are."
    exit 0
}

# Step: find Python 3.11 or newer.
$Python = $null
foreach ($candidate in @("py -3.13", "py -3.12", "py -3.11", "python3", "python")) {
    $parts = $candidate.Split(" ")
    if (-not (Get-Command $parts[0] -ErrorAction SilentlyContinue)) { continue }
    $check = @($parts | Select-Object -Skip 1) + @("-c", "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)")
    if ((Invoke-Native $parts[0] $check -Quiet) -eq 0) { $Python = $parts; break }
}
if (-not $Python) {
    Die "Python $PyMin+ not found. Install it from https://www.python.org/downloads/windows/ (tick 'Add python.exe to PATH'), then run this again."
}
$PyCmd = $Python[0]
$PyArgs = @($Python | Select-Object -Skip 1)
Say ("using " + ($Python -join " "))

# Step: a private virtual environment (reused when it already works).
$Reuse = $false
if (Test-Path $Py) { $Reuse = ((Invoke-Native $Py @("-c", "import sys") -Quiet) -eq 0) }
if ($Reuse) {
    Say "updating $Venv"
} else {
    if (Test-Path $Venv) { Remove-Item -Recurse -Force $Venv }
    New-Item -ItemType Directory -Force -Path $Prefix | Out-Null
    if ((Invoke-Native $PyCmd ($PyArgs + @("-m", "venv", $Venv))) -ne 0) { Die "could not create a virtual environment" }
}

# Step: install xlhedge into it.
if (-not $Source) {
    $Here = Split-Path -Parent $PSScriptRoot
    if (Test-Path (Join-Path $Here "pyproject.toml")) { $Source = $Here } else { $Source = "xlhedge" }
}
Invoke-Native $Py @("-m", "pip", "install", "--quiet", "--upgrade", "pip") -Quiet | Out-Null
if ((Invoke-Native $Py @("-m", "pip", "install", "--quiet", "--upgrade", $Source)) -ne 0) { Die "pip could not install $Source" }

# Step: put the command on the PATH.
New-Item -ItemType Directory -Force -Path $BinDir | Out-Null
$Exe = Join-Path $Venv "Scripts\xlhedge.exe"
# cmd.exe reads .cmd files in the OEM code page: keep the file ASCII by naming the profile folder by variable
if ($Exe.StartsWith($env:USERPROFILE)) { $Exe = "%USERPROFILE%" + $Exe.Substring($env:USERPROFILE.Length) }
Set-Content -Path (Join-Path $BinDir "xlhedge.cmd") -Value ('@"{0}" %*' -f $Exe) -Encoding ASCII
$UserPath = [Environment]::GetEnvironmentVariable("Path", "User")
if (-not ($UserPath -split ";" | Where-Object { $_ -eq $BinDir })) {
    [Environment]::SetEnvironmentVariable("Path", ($UserPath.TrimEnd(";") + ";" + $BinDir), "User")
    Say "added $BinDir to your PATH (open a new terminal to use 'xlhedge')"
}
Say "installed the command: $BinDir\xlhedge.cmd"

# Step: Excel (Windows).
# The workbook carries xlwings' own VBA (RunPython, ImportPythonUDFs): no xlwings add-in is installed.
# The add-in is not needed by a standalone workbook, starts Excel hidden, and its ribbon's
# "Use UDF Server" switch would bypass the refresh bridge.
if (-not $NoExcel) {
    if (-not (Edit-Conf "set")) { Die "could not write the xlwings settings (see the message above)" }
    Invoke-Native $Py @("-m", "xlhedge.bridge", "install") -Quiet | Out-Null
    New-Item -ItemType Directory -Force -Path $Docs | Out-Null
    $Book = Join-Path $Docs "xlhedge.xlsm"
    if (Test-Path $Book) {
        Say "kept your existing $Book (a fresh copy: xlhedge template --out FILE)"
    } else {
        if ((Invoke-Native (Join-Path $Venv "Scripts\xlhedge.exe") @("template", "--out", $Book) -Quiet) -ne 0) {
            Die "could not write $Book"
        }
        Say "copied the workbook to $Book"
    }
    Say "next: in Excel, File > Options > Trust Center > Trust Center Settings > Macro Settings: tick 'Trust access to the VBA project object model' (needed once, for 'Enable functions')."
    Say "then open $Book, enable macros, click 'Enable functions' and 'Refresh market data'. Check the set-up any time with: xlhedge doctor"
} else {
    Say "next: xlhedge demo   (then: xlhedge plan xlhedge.xlsm, xlhedge funding --symbols BTC,ETH)"
}
