// SPDX-License-Identifier: MIT
// Sends one message with nodemailer's SMTP transport, for tests/e2e/test_nodemailer.py.
//
//   node nodemailer_send.mjs '<json spec>'
//
// spec: { host, port, mode: "structured" | "raw", envelope: {from, to: [...]}, mail: {...},
//         secure?, requireTLS?, auth?: {user, pass, method?}, tls?: {caFile, servername} }
//   structured: `mail` is a nodemailer message (from, to, subject, text, html, attachments with
//               `path` or base64 `contentBase64`) and nodemailer composes and sends it.
//   raw:        the message is first built with nodemailer's MailComposer, then sent as `raw`, so
//               the test knows every byte nodemailer put on the wire.
// Prints one JSON line: { response, accepted, rejected, envelope, messageId, rawBase64? }.
// Exit status 0 on success, 1 with the error on stderr.
// nodemailer 7 is CommonJS (runs on Debian 12's Node 18); require() also works with later versions.
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const nodemailer = require('nodemailer');
const MailComposer = require('nodemailer/lib/mail-composer');

function mailFromSpec(mail) {
    const out = { ...mail };
    if (Array.isArray(mail.attachments)) {
        out.attachments = mail.attachments.map(a => {
            const b = { ...a };
            if (b.contentBase64 !== undefined) {
                b.content = Buffer.from(b.contentBase64, 'base64');
                delete b.contentBase64;
            }
            return b;
        });
    }
    return out;
}

function build(mail) {
    return new Promise((resolve, reject) => {
        new MailComposer(mail).compile().build((err, message) => (err ? reject(err) : resolve(message)));
    });
}

async function main() {
    const spec = JSON.parse(process.argv[2]);
    // TLS and AUTH (optional): secure = implicit TLS; requireTLS = STARTTLS or fail; auth =
    // {user, pass[, method]}; tls = {caFile, servername} checks the certificate against caFile.
    const tls = spec.tls ? { ca: fs.readFileSync(spec.tls.caFile), servername: spec.tls.servername } : undefined;
    const transport = nodemailer.createTransport({
        host: spec.host,
        port: spec.port,
        secure: !!spec.secure,
        ignoreTLS: !(spec.secure || spec.requireTLS),
        requireTLS: !!spec.requireTLS,
        auth: spec.auth,
        authMethod: spec.auth && spec.auth.method,
        tls,
        name: spec.name || 'nodemailer.client.example',
        connectionTimeout: 30000,
        greetingTimeout: 30000,
        socketTimeout: 60000,
    });
    const mail = mailFromSpec(spec.mail || {});
    if (spec.envelope) mail.envelope = spec.envelope;
    let rawMessage;
    let toSend = mail;
    if (spec.mode === 'raw') {
        rawMessage = await build(mail);
        toSend = { raw: rawMessage, envelope: spec.envelope };
    }
    const info = await transport.sendMail(toSend);
    transport.close();
    const result = {
        response: info.response,
        accepted: info.accepted,
        rejected: info.rejected,
        envelope: info.envelope,
        messageId: info.messageId,
    };
    if (rawMessage) result.rawBase64 = rawMessage.toString('base64');
    process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch(err => {
    process.stderr.write(`nodemailer_send: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
});
