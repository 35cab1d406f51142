<#
.SYNOPSIS
  xlhedge installer for Windows with desktop Excel.
.DESCRIPTION
  powershell -ExecutionPolicy Bypass -File install\install.ps1             install or update (safe to run again)
  powershell -ExecutionPolicy Bypass -File install\install.ps1 -Uninstall  remove xlhedge (your workbooks are kept)
  Options: -Prefix DIR (default %USERPROFILE%\.xlhedge), -Source SPEC (a path or pip spec; default: this
  checkout), -NoExcel (command line only).
#>
[CmdletBinding()]
param(
    [switch]$Uninstall,
    [string]$Prefix = $(if ($env:XLHEDGE_HOME) { $env:XLHEDGE_HOME } else { Join-Path $env:USERPROFILE ".xlhedge" }),
    [string]$Source = "",
    [switch]$NoExcel
)
$ErrorActionPreference = "Stop"

function Say([string]$Text) { Write-Host "xlhedge: $Text" }
function Die([string]$Text) { Write-Host "xlhedge: $Text" -ForegroundColor Red; exit 1 }

$Venv = Join-Path $Prefix "venv"
$Py = Join-Path $Venv "Scripts\python.exe"
$BinDir = Join-Path $env:LOCALAPPDATA "xlhedge\bin"
$ConfDir = Join-Path $env:USERPROFILE ".xlwings"
$Docs = [Environment]::GetFolderPath("MyDocuments")

# Step: set or remove our keys in the user-level xlwings.conf ("KEY","VALUE" lines).
function Edit-Conf([string]$Action) {
    $conf = Join-Path $ConfDir "xlwings.conf"
    $ours = [ordered]@{ "INTERPRETER_WIN" = $Py; "UDF MODULES" = "xlhedge.udfs" }
    $lines = @()
    if (Test-Path $conf) { $lines = @(Get-Content $conf) }
    $kept = @($lines | Where-Object { $ours.Keys -notcontains ($_.Split(",")[0].Trim('"').ToUpper()) })
    if ($Action -eq "set") { foreach ($k in $ours.Keys) { $kept += ('"{0}","{1}"' -f $k, $ours[$k]) } }
    New-Item -ItemType Directory -Force -Path $ConfDir | Out-Null
    Set-Content -Path $conf -Value $kept -Encoding ASCII
}

if ($Uninstall) {
    if (Test-Path $Py) {
        if (-not $NoExcel) {
            & $Py -m xlwings addin remove 2>$null | Out-Null
            if (Test-Path (Join-Path $ConfDir "xlwings.conf")) { Edit-Conf "remove" }
        }
    }
    if (Test-Path (Join-Path $BinDir "xlhedge.cmd")) { Remove-Item -Force (Join-Path $BinDir "xlhedge.cmd") }
    if (Test-Path $Venv) { Remove-Item -Recurse -Force $Venv }
    if ((Test-Path $Prefix) -and -not (Get-ChildItem $Prefix)) { Remove-Item $Prefix }
    Say "removed. Your workbooks (e.g. $Docs\xlhedge.xlsm) were left where they are."
    exit 0
}

# Step: find Python 3.10 or newer.
$Python = $null
foreach ($candidate in @("py -3.13", "py -3.12", "py -3.11", "py -3.10", "python3", "python")) {
    $parts = $candidate.Split(" ")
    if (-not (Get-Command $parts[0] -ErrorAction SilentlyContinue)) { continue }
    $args_ = @($parts | Select-Object -Skip 1)
    & $parts[0] @args_ -c "import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)" 2>$null
    if ($LASTEXITCODE -eq 0) { $Python = $parts; break }
}
if (-not $Python) {
    Die "Python 3.10+ not found. Install it from https://www.python.org/downloads/windows/ (tick 'Add python.exe to PATH'), then run this again."
}
$PyCmd = $Python[0]
$PyArgs = @($Python | Select-Object -Skip 1)
Say ("using " + ($Python -join " "))

# Step: a private virtual environment (reused when it already works).
$Reuse = $false
if (Test-Path $Py) { & $Py -c "import sys" 2>$null; $Reuse = ($LASTEXITCODE -eq 0) }
if ($Reuse) {
    Say "updating $Venv"
} else {
    if (Test-Path $Venv) { Remove-Item -Recurse -Force $Venv }
    New-Item -ItemType Directory -Force -Path $Prefix | Out-Null
    & $PyCmd @PyArgs -m venv $Venv
    if ($LASTEXITCODE -ne 0) { Die "could not create a virtual environment" }
}

# Step: install xlhedge into it.
if (-not $Source) {
    $Here = Split-Path -Parent $PSScriptRoot
    if (Test-Path (Join-Path $Here "pyproject.toml")) { $Source = $Here } else { $Source = "xlhedge" }
}
& $Py -m pip install --quiet --upgrade pip 2>$null | Out-Null
& $Py -m pip install --quiet --upgrade $Source
if ($LASTEXITCODE -ne 0) { Die "pip could not install $Source" }

# Step: put the command on the PATH.
New-Item -ItemType Directory -Force -Path $BinDir | Out-Null
Set-Content -Path (Join-Path $BinDir "xlhedge.cmd") -Value ('@"{0}" %*' -f (Join-Path $Venv "Scripts\xlhedge.exe")) -Encoding ASCII
$UserPath = [Environment]::GetEnvironmentVariable("Path", "User")
if (-not ($UserPath -split ";" | Where-Object { $_ -eq $BinDir })) {
    [Environment]::SetEnvironmentVariable("Path", ($UserPath.TrimEnd(";") + ";" + $BinDir), "User")
    Say "added $BinDir to your PATH (open a new terminal to use 'xlhedge')"
}
Say "installed the command: $BinDir\xlhedge.cmd"

# Step: Excel (Windows).
if (-not $NoExcel) {
    & $Py -m xlwings addin install
    if ($LASTEXITCODE -ne 0) { Die "xlwings could not install its Excel add-in" }
    Edit-Conf "set"
    & $Py -m xlhedge.bridge install | Out-Null
    New-Item -ItemType Directory -Force -Path $Docs | Out-Null
    $Book = Join-Path $Docs "xlhedge.xlsm"
    if (Test-Path $Book) {
        Say "kept your existing $Book (a fresh copy: xlhedge template --out FILE)"
    } else {
        & (Join-Path $Venv "Scripts\xlhedge.exe") template --out $Book | Out-Null
        Say "copied the workbook to $Book"
    }
    Say "next: in Excel, File > Options > Trust Center > Trust Center Settings > Macro Settings: tick 'Trust access to the VBA project object model' (needed once, for 'Enable functions')."
    Say "then open $Book, enable macros, click 'Enable functions' and 'Refresh market data'."
} else {
    Say "next: xlhedge demo   (then: xlhedge plan xlhedge.xlsm, xlhedge funding --symbols BTC,ETH)"
}
